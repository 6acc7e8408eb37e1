"""Operations: readiness checks, Prometheus metrics, request logs, faults, backups."""
