"""Webhooks for the newsroom's tools (issue 17, point 6), signed per Standard Webhooks.

- endpoints: register, change, rotate, delete, test (services, no Flask);
- subscribers: domain events → one outbox message per subscribed endpoint;
- delivery: the outbox's deliverer for the webhook channel (sign, POST, judge the answer);
- signing, transport, payloads, cache: the parts those use.
"""
