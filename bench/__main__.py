"""``python -m bench --profile quick|full [--only NAME ...]``: run, print the table, save it.

Results go to ``bench/results/<profile>-<time>.{json,md}``; ``--write-readme`` also puts the
summary (the figures with a target, and a link to that ``.md``) into bench/README.md, between
the ``results:<profile>`` markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from bench.profiles import PROFILES
from bench.results import Report
from bench.runner import BENCHMARKS, run

app = typer.Typer(add_completion=False)
_BENCHMARK_NAMES = ", ".join(BENCHMARKS)


@app.command()
def main(
    profile: str = typer.Option("quick", help=f"one of: {', '.join(PROFILES)}"),
    only: list[str] = typer.Option([], help=f"run only these (repeatable or comma-separated): {_BENCHMARK_NAMES}"),
    runs: int = typer.Option(0, help="runs per measurement (default: the profile's)"),
    write_readme: bool = typer.Option(False, help="put the summary into bench/README.md"),
    keep_stack: bool = typer.Option(False, help="leave the bench's stack running (for poking at it)"),
    py_spy: bool = typer.Option(
        False,
        "--py-spy",
        help="sample the services with py-spy during the last run of each benchmark (py-spy on PATH or in $PY_SPY)",
    ),
    render: Path = typer.Option(None, help="run nothing: put this saved results JSON into bench/README.md"),
) -> None:
    """Load the data set through the real write path and run the benchmarks against it."""
    console = Console()
    if render is not None:
        saved = Report.load(render)
        full = render.with_suffix(".md")
        if not full.exists():
            full.write_text(saved.markdown())
        console.print("bench/README.md updated" if saved.write_readme(full) else "no results block for that profile")
        return
    if profile not in PROFILES:
        raise typer.BadParameter(f"unknown profile {profile!r}", param_hint="--profile")
    selected = {name.strip() for item in only for name in item.split(",") if name.strip()} or set(BENCHMARKS)
    unknown = selected - set(BENCHMARKS)
    if unknown:
        raise typer.BadParameter(f"unknown benchmark(s) {sorted(unknown)}", param_hint="--only")
    chosen = PROFILES[profile]
    if runs:
        from dataclasses import replace

        chosen = replace(chosen, runs=runs)
    command = "python -m bench " + " ".join(sys.argv[1:])
    report = run(
        chosen,
        selected,
        command.strip(),
        say=lambda m: console.print(m, highlight=False, markup=False),
        keep=keep_stack,
        py_spy=py_spy,
    )
    if console.is_terminal:
        console.print(report.rich_table())
        for note in report.notes:
            console.print(f"- {note}", highlight=False, markup=False)
    else:
        print(report.markdown())
    path = report.save()
    console.print(f"saved {path} (+ .md)")
    if write_readme:
        console.print(
            "bench/README.md updated"
            if report.write_readme(path.with_suffix(".md"))
            else "bench/README.md has no results block for this profile: not updated"
        )


if __name__ == "__main__":
    app()
