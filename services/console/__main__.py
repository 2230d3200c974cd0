"""``python -m services.console``: the people's console (server-rendered pages over the services' APIs).

It owns no database, so unlike the other services it has no ``migrate`` command: only ``--help``
and serving.
"""

import typer

from services.console.bootstrap import create_app
from services.console.settings import ConsoleSettings
from shared.settings import load_or_exit

cli = typer.Typer(add_completion=False)


@cli.command(
    help="The people's console: pages over the four services' HTTP APIs, called with the signed-in "
    "person's token. Serves on CONSOLE_HTTP_HOST:CONSOLE_HTTP_PORT. Settings: CONSOLE_* and ABONENT_* variables."
)
def main() -> None:
    from shared.http.server import serve  # uvicorn only where it serves

    settings = load_or_exit(ConsoleSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    cli(prog_name="python -m services.console")
