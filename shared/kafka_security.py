"""The one place that turns :class:`KafkaSettings` into what a Kafka client needs.

Every producer, consumer and admin client of Abonent connects through here: FastStream's
``KafkaBroker`` gets :func:`broker_security`, raw aiokafka clients get :func:`client_options`
(bootstrap servers + the same security keyword arguments, derived by FastStream's own
``parse_security`` so the two kinds of client can never disagree).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from shared.settings import KafkaSettings

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

# FastStream is imported where it is used, for TLS and SASL: every service's clients are raw
# aiokafka ones, and a process connecting in PLAINTEXT never loads it (~6 MB of RSS)


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    """Verifies the broker's certificate and host name (CA file or the system's store);
    presents a client certificate when one is configured (mutual TLS)."""
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if kafka.ssl_certfile is not None and kafka.ssl_keyfile is not None:
        password = kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile, password)
    return context


def broker_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for ``KafkaBroker(..., security=...)``; None = PLAINTEXT."""
    if not (kafka.uses_tls or kafka.uses_sasl):
        return None
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    context = ssl_context(kafka) if kafka.uses_tls else None
    if kafka.uses_sasl:
        assert kafka.sasl_username is not None and kafka.sasl_password is not None  # validated
        sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
        return sasl[kafka.sasl_mechanism](
            kafka.sasl_username, kafka.sasl_password.get_secret_value(), ssl_context=context, use_ssl=kafka.uses_tls
        )
    return BaseSecurity(ssl_context=context, use_ssl=True)


def security_options(kafka: KafkaSettings) -> dict[str, Any]:
    """aiokafka keyword arguments for the security part only (no bootstrap servers)."""
    security = broker_security(kafka)
    if security is None:
        return {}  # what parse_security(None) gives (tests/unit/shared/test_kafka_security.py)
    from faststream.kafka.security import parse_security

    return parse_security(security)


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """``AIOKafkaProducer/Consumer/AdminClient(**client_options(kafka), ...)``."""
    return {"bootstrap_servers": kafka.bootstrap_servers, **security_options(kafka)}


def plaintext(bootstrap_servers: str) -> KafkaSettings:
    """Settings for an unauthenticated cluster at ``bootstrap_servers`` (tools, tests),
    not read from the environment."""
    return KafkaSettings.model_construct(bootstrap_servers=bootstrap_servers)
