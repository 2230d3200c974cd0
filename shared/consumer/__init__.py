"""A small kit for Kafka consumers: decode envelopes, dead-letter what cannot be decoded.

Used by every consuming service (projections, notifier)::

    decoded, poison = decode_batch(records)
    await dead_letters.publish_all(poison)      # acked by Kafka before the offsets move on
    ... apply ``decoded`` and commit ...
"""

from shared.consumer.dead_letter import (
    DLQ_HEADERS,
    DeadLetterPublisher,
    Send,
    aiokafka_send,
    make_dead_letter_producer,
)
from shared.consumer.decoding import Decoded, Poison, PoisonMessage, decode_batch, decode_record

__all__ = [
    "DLQ_HEADERS", "DeadLetterPublisher", "Decoded", "Poison", "PoisonMessage", "Send",
    "aiokafka_send", "decode_batch", "decode_record", "make_dead_letter_producer",
]
