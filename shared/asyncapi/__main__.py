"""``python -m shared.asyncapi gen|check SPEC...`` — what ``make asyncapi`` / ``asyncapi-check`` run.

A SPEC is ``module:attribute`` naming a :class:`shared.asyncapi.document.Spec` (the services
declare theirs in ``services/*/entrypoints/asyncapi.py``). ``gen`` writes each document to
``docs/asyncapi/<file>``; ``check`` fails when a committed document differs from what the
code generates, or when a generated document breaks its released copy in
``docs/asyncapi/released/`` (``compat``). ``compat OLD NEW`` compares two files.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.asyncapi.compat import breaking_changes
from shared.asyncapi.document import DOCS, Spec, build

RELEASED = DOCS / "released"


def load_spec(name: str) -> Spec:
    module, _, attribute = name.partition(":")
    spec = getattr(importlib.import_module(module), attribute)
    if not isinstance(spec, Spec):
        raise SystemExit(f"{name} is not a shared.asyncapi.document.Spec")
    return spec


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate(specs: list[str]) -> None:
    for name in specs:
        spec = load_spec(name)
        (DOCS / spec.file).write_text(dumps(build(spec)))
    print(f"docs/asyncapi regenerated ({len(specs)} documents)")


def check(specs: list[str]) -> int:
    failures = 0
    for name in specs:
        spec = load_spec(name)
        generated = build(spec)
        committed = DOCS / spec.file
        if not committed.exists() or json.loads(committed.read_text()) != generated:
            print(f"docs/asyncapi/{spec.file} is out of date: run 'make asyncapi' and commit it")
            failures += 1
        released = RELEASED / spec.file
        if released.exists():
            problems = breaking_changes(json.loads(released.read_text()), generated)
            for problem in problems:
                print(f"docs/asyncapi/{spec.file} breaks the released document: {problem}")
            if problems:
                print(
                    "A breaking change is a new topic version published alongside the old one "
                    "(docs/integrating.md, 'Evolution'), never an edit of a released one."
                )
                failures += 1
    if not failures:
        print("AsyncAPI documents match the code and keep their released contracts")
    return 1 if failures else 0


def compat(old: str, new: str) -> int:
    problems = breaking_changes(json.loads(Path(old).read_text()), json.loads(Path(new).read_text()))
    for problem in problems:
        print(problem)
    print(f"{len(problems)} breaking change(s)")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "gen":
        generate(argv[1:])
        return 0
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1:])
    if len(argv) == 3 and argv[0] == "compat":
        return compat(argv[1], argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
