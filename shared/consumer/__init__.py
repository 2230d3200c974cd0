"""The one Kafka consumer runtime of Abonent, used by projections and the notifier.

Pieces, one module each:

* ``runtime`` — :class:`ConsumerRuntime`: start with retry, the fetch → handle → commit loop,
  redelivery after a bounded back-off, commits flushed on revoke and stop, lag;
* ``decoding`` — raw record → envelope + validated payload, or :class:`PoisonMessage`;
* ``dead_letter`` — :class:`DeadLetterProducer` (the one producer) and
  :class:`DeadLetterPublisher` (the raw message + ``dlq_*`` reason headers, acknowledged
  before the source offset is committed);
* ``shared.backoff`` — the tenacity back-off the runtime (and the outbox relay) waits by.

A service writes a :class:`Handler` (``handle`` the raw records of one fetch, ``failed`` to
settle records that can only fail again) and hands it to a runtime::

    runtime = ConsumerRuntime(kafka, Subscription(topics, group, client_id), handler,
                              DeadLetterProducer(kafka, f"{client_id}-dlq"), backoff=Backoff(0.4, 5))
    runtime.start() ... await runtime.stop()

Decision — FastStream's role: **the runtime is plain aiokafka; FastStream stays for the
AsyncAPI documents** (``services/*/entrypoints/asyncapi.py``, ``make asyncapi``) and for the
security objects ``shared.kafka_security`` derives the aiokafka arguments from. Both consumers
bypassed every part of a FastStream subscriber: a decoder returning the raw records (our
decoding dead-letters poison, FastStream's would drop it), a parser working around its UTF-8
header decoding, ``AckPolicy.MANUAL`` with our own commit, a rebalance listener reaching into
``subscriber.consumer`` to seek to the offsets the projections keep in their own database
transaction (the exactly-once design). What remained was an extra sleep after every empty
poll and layers around ``getmany``; aiokafka's ``getmany`` returns as soon as a record
arrives, so the plain loop never adds latency to the hot path.
"""

from shared.backoff import Backoff
from shared.consumer.commits import Offsets
from shared.consumer.dead_letter import (
    DLQ_HEADERS,
    DeadLetterProducer,
    DeadLetterPublisher,
    Send,
)
from shared.consumer.decoding import Decoded, Poison, PoisonMessage, decode_batch, decode_record
from shared.consumer.runtime import ConsumerRuntime, Handler, Subscription

__all__ = [
    "DLQ_HEADERS",
    "Backoff",
    "ConsumerRuntime",
    "DeadLetterProducer",
    "DeadLetterPublisher",
    "Decoded",
    "Handler",
    "Offsets",
    "Poison",
    "PoisonMessage",
    "Send",
    "Subscription",
    "decode_batch",
    "decode_record",
]
