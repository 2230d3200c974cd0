"""Bytes to text lines, streaming: the encoding guessed from the head of the file, lines
split on CRLF, CR or LF, each decoded on its own (a bad line is that line's problem).

How the encoding is chosen (banks label it wrongly often enough not to trust the header):
a UTF-8 BOM is dropped; UTF-16 is refused; if the first 64 KiB are valid UTF-8 it is UTF-8;
else if they hold ``Кодировка=DOS`` in cp866 it is cp866; else Windows-1251.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.contracts.domain.statements.lines import MAX_LINE_BYTES, StatementUnreadable

HEAD_BYTES = 64 * 1024
_EOL = re.compile(rb"\r\n|\r|\n")
_DOS_KEYS = tuple(k.encode("cp866") for k in ("Кодировка=", "кодировка=", "КОДИРОВКА="))


@dataclass(frozen=True)
class TextLine:
    number: int
    text: str | None
    """None when the line's bytes are not valid in the file's encoding."""


def guess_encoding(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4096]:
        raise StatementUnreadable(
            1, "encoding_unsupported", "the file is UTF-16 (or binary); export it as Windows-1251 or UTF-8"
        )
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"  # the head cut a character in two
    for key in _DOS_KEYS:
        at = head.find(key)
        if at >= 0 and head[at + len(key) : at + len(key) + 3].lower() == b"dos":
            return "cp866"
    return "cp1251"


def _byte_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    number = 0
    for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk if pending else chunk
        start = 0
        for match in _EOL.finditer(data):
            if match.end() == len(data) and match.group() == b"\r":
                break  # a CR at the end of a chunk may be the first half of CRLF
            number += 1
            yield data[start : match.start()]
            start = match.end()
        pending = data[start:]
        if len(pending) > MAX_LINE_BYTES:
            raise StatementUnreadable(
                number + 1, "line_too_long", f"the line is longer than {MAX_LINE_BYTES} bytes: this is not a statement"
            )
    if pending:
        yield from _EOL.split(pending)


def open_text(chunks: Iterable[bytes]) -> tuple[str, Iterator[TextLine]]:
    """The file's encoding, and its lines numbered from 1 and stripped. Reads the head (64 KiB)
    at once to decide the encoding; the rest is read as the lines are."""
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    encoding = guess_encoding(head[:HEAD_BYTES])

    def everything() -> Iterator[bytes]:
        yield head
        yield from source

    def lines() -> Iterator[TextLine]:
        for number, raw in enumerate(_byte_lines(everything()), start=1):
            try:
                yield TextLine(number, raw.decode(encoding).strip())
            except UnicodeDecodeError:
                yield TextLine(number, None)

    return encoding, lines()
