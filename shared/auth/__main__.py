"""``python -m shared.auth mint --role ROLE [--sub NAME] [--name TEXT] [--ttl 8h]``

Prints one token on one line, signed with the HS256 secret the local stack wrote to
``.run/stack.env`` (``--env-file``; without that file, ``ABONENT_AUTH_*`` from the
environment). ``make -s token ROLE=admin`` calls this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from shared.auth.principal import Role
from shared.auth.settings import settings_from
from shared.auth.tokens import mint, parse_ttl

cli = typer.Typer(add_completion=False, help="Bearer tokens for people, scripts and tests.")


@cli.callback()
def main() -> None:
    """Bearer tokens for people, scripts and tests."""


@cli.command("mint")
def mint_command(
    role: Annotated[list[Role], typer.Option("--role", "-r", help="a role (repeat for several)")],
    sub: Annotated[str | None, typer.Option(help="the subject: who acts (default ROLE@local)")] = None,
    name: Annotated[str | None, typer.Option(help="display name recorded beside the subject")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime: 90s, 15m, 8h, 2d")] = "8h",
    env_file: Annotated[Path, typer.Option(help="the stack's settings")] = Path(".run/stack.env"),
) -> None:
    try:
        settings = settings_from(env_file)
        token = mint(settings, [r.value for r in role], sub or f"{role[0].value}@local", ttl=parse_ttl(ttl), name=name)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(f"{first['msg']} (is the stack up? `make up` writes {env_file})") from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(token)


if __name__ == "__main__":
    cli()
