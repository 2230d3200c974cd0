"""E-mail addresses: what counts as one, and how two spellings of one address are compared.

A syntax check only (no DNS): the notifier must decide the same way every time it sees the
same event, or a redelivery could change who gets what. Domains reserved for special use
(``.local``, ``.localhost``, ``.invalid``) are refused, as the contracts API refuses them;
``example.com`` and ``.test`` are accepted so development and test stacks can use them.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """``address`` is not an e-mail address; ``reason`` says why in one sentence."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"{address!r} is not an e-mail address: {reason}")
        self.address, self.reason = address, reason


def normalize(address: str) -> str:
    """The address as it will be used and stored (domain lower-cased, IDN normalized)."""
    text = address.strip()
    if not text:
        raise InvalidAddress(address, "it is empty")
    try:
        checked = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(address, str(exc)) from None
    return checked.normalized


def same_mailbox_key(address: str) -> str:
    """Key under which two spellings of one mailbox are one recipient (case-insensitive)."""
    return address.strip().casefold()


def split_addresses(text: str) -> tuple[str, ...]:
    """``"a@x.com, b@y.com;c@z.com"`` → normalized, without duplicates, in order.

    Raises :class:`InvalidAddress` for the first entry that is not an address.
    """
    out: list[str] = []
    seen: set[str] = set()
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        address = normalize(part)
        if same_mailbox_key(address) not in seen:
            seen.add(same_mailbox_key(address))
            out.append(address)
    return tuple(out)
