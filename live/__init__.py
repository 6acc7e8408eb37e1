"""Live match-day refresh: how often a page, the comments embed and the poll widget check
for news (docs/design.md, "Live refresh")."""
