"""The transactional outbox: mail and webhooks written with the event that causes them and
delivered by `flask --app app tribune worker` (docs/design.md, "Outbox")."""

from models import Channel, MessageState, OutboxMessage
from outbox.delivery import DeliveryOutcome, register_deliverer
from outbox.messages import enqueue_mail, enqueue_webhook, retry_message
from outbox.worker import periodic_job, run_worker, worker_step

__all__ = [
    "Channel",
    "DeliveryOutcome",
    "MessageState",
    "OutboxMessage",
    "enqueue_mail",
    "enqueue_webhook",
    "periodic_job",
    "register_deliverer",
    "retry_message",
    "run_worker",
    "worker_step",
]
