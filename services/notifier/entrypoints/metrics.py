"""Prometheus metrics of the notifier (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EMAILS_SENT = Counter("notifier_emails_sent_total", "E-mails accepted by the SMTP server", ["kind"])
EMAILS_FAILED = Counter("notifier_emails_failed_total", "E-mails refused for good (5xx) and not retried", ["kind"])
EMAILS_RETRIED = Counter(
    "notifier_email_retries_total", "Temporary SMTP failures that will be retried after a back-off", ["kind"]
)
DEAD_LETTERS = Counter(
    "notifier_dead_letters_total", "Messages published to the notifier's dead-letter topic", ["reason"]
)
EVENTS = Counter("notifier_events_total", "Schedule events handled, by outcome", ["outcome"])
HANDLER_FAILURES = Counter(
    "notifier_handler_failures_total", "Messages whose handling failed (database/Kafka) and will be redelivered"
)
LAG = Gauge("notifier_consumer_lag", "Records in the partition not yet handled", ["topic", "partition"])
RETRY_QUEUE = Gauge(
    "notifier_retry_queue_size", "Deliveries on the retry schedule (a temporary failure; the next attempt is due later)"
)
SMTP_UP = Gauge("notifier_smtp_up", "1 when the last SMTP probe succeeded, 0 when it failed")


class PrometheusMetrics:
    """The application's ``Metrics`` port, backed by the counters above."""

    def sent(self, kind: str) -> None:
        EMAILS_SENT.labels(kind).inc()

    def failed(self, kind: str) -> None:
        EMAILS_FAILED.labels(kind).inc()

    def retried(self, kind: str) -> None:
        EMAILS_RETRIED.labels(kind).inc()

    def dead_lettered(self, reason: str) -> None:
        DEAD_LETTERS.labels(reason).inc()

    def event(self, outcome: str) -> None:
        EVENTS.labels(str(outcome)).inc()


for _kind in ("reminder", "debt_notice"):  # known label values start at 0, not absent
    for _counter in (EMAILS_SENT, EMAILS_FAILED, EMAILS_RETRIED):
        _counter.labels(_kind)
