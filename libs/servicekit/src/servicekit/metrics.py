"""Prometheus metrics shared by every service (the registry is process-wide)."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("factora_http_requests_total", "HTTP requests served.", ["method", "route", "status"])
HTTP_DURATION = Histogram("factora_http_request_duration_seconds", "HTTP request duration.", ["method", "route"])
MESSAGES_CONSUMED = Counter("factora_messages_consumed_total", "Kafka messages handled.", ["topic", "outcome"])
HANDLER_RETRIES = Counter("factora_handler_retries_total", "Handler retries after an error.", ["topic"])
DEAD_LETTERED = Counter("factora_dead_lettered_total", "Messages sent to a DLQ.", ["topic"])
OUTBOX_PUBLISHED = Counter("factora_outbox_published_total", "Outbox rows published.")
OUTBOX_BACKLOG = Gauge("factora_outbox_backlog", "Unpublished outbox rows.")
OUTBOX_OLDEST_AGE = Gauge("factora_outbox_oldest_age_seconds", "Age of the oldest unpublished row.")
