"""What a bench run found: one row per measured figure, printed as a table and saved.

A row holds one value per run; the table shows the median and min–max. Ceilings are rows
of their own, right under the figure they bound, so every number is read next to what the
machine itself can do.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import spread

README = Path(__file__).with_name("README.md")
RESULTS_DIR = Path(__file__).with_name("results")


@dataclass(frozen=True)
class Target:
    op: str  # ">=" or "<="
    value: float
    text: str

    def met(self, v: float) -> bool:
        return v >= self.value if self.op == ">=" else v <= self.value

    def miss(self, v: float) -> str:
        """How far off, as a factor and a difference."""
        if self.met(v):
            return ""
        factor = self.value / v if self.op == ">=" and v else v / self.value if self.value else math.inf
        return f"{factor:.1f}× off ({v - self.value:+,.1f})"


@dataclass(frozen=True)
class Ratio:
    """A figure read as a share of a ceiling measured in the same run (issue 20's yardstick: the
    machines differ by up to 3× from day to day, the ratio much less). ``target`` None: shown,
    no verdict."""

    figure: str  # Row.key of the figure
    ceiling: str  # Row.key of the ceiling
    name: str  # how the ceiling is named in the table
    target: Target | None = None


RATIOS = (
    Ratio("write_capacity", "pgbench", "pgbench", Target(">=", 0.12, "≥ 0.12")),
    Ratio("write_capacity", "append_ceiling", "asyncpg+aiokafka loop"),
    Ratio("write_capacity", "http_ceiling", "HTTP shell alone"),
    Ratio("relay", "producer_perf", "ProducerPerformance", Target(">=", 0.8, "≥ 0.8")),
    Ratio("relay", "aiokafka_producer", "bare aiokafka producer"),
    Ratio("replay", "bare_consumer", "bare consumer", Target(">=", 0.3, "≥ 0.3")),
    Ratio("catch_up", "bare_consumer", "bare consumer", Target(">=", 0.3, "≥ 0.3")),
    Ratio("live_catch_up", "bare_consumer", "bare consumer", Target(">=", 0.3, "≥ 0.3")),
    Ratio("visible_p50", "readable_p50", "Kafka produced → readable p50", Target("<=", 6, "≤ 6")),
)


@dataclass
class Row:
    bench: str
    measure: str
    unit: str
    values: list[float] = field(default_factory=list)
    target: Target | None = None
    ceiling: bool = False
    note: str = ""
    key: str = ""
    """Names the row for ``RATIOS`` (empty: not part of one)."""

    @property
    def median(self) -> float:
        return spread(self.values)[0]

    def verdict(self) -> str:
        if self.target is None or math.isnan(self.median):
            return ""
        return "met" if self.target.met(self.median) else f"MISSED: {self.target.miss(self.median)}"


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:,.1f}"
    return f"{v:,.2f}"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine() -> dict[str, str]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = "?"
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "python": platform.python_version(),
        "load_at_start": f"{load[0]:.1f}",
        "kernel": platform.release(),
    }


@dataclass
class Report:
    profile: str
    command: str
    data: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    """py-spy summaries (``--py-spy``), by "benchmark — service"."""
    started: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    commit: str = field(
        default_factory=lambda: (
            _git("rev-parse", "--short", "HEAD") + ("+dirty" if _git("status", "--porcelain") not in ("", "?") else "")
        )
    )
    machine: dict[str, str] = field(default_factory=machine)
    load_at_end: str = ""

    def add(
        self,
        bench: str,
        measure: str,
        unit: str,
        values: list[float],
        *,
        target: Target | None = None,
        ceiling: bool = False,
        note: str = "",
        key: str = "",
    ) -> Row:
        row = Row(bench, measure, unit, list(values), target, ceiling, note, key)
        self.rows.append(row)
        return row

    def header(self) -> str:
        m = self.machine
        return (
            f"`{self.command}` · data: {self.data} · {self.started} · commit {self.commit} · "
            f"{m['cores']} cores, {m['memory']} ({m['cpu']}) · load average {m['load_at_start']} "
            f"at start, {self.load_at_end or '?'} at end"
        )

    def ratios(self, row: Row) -> list[str]:
        """``row`` as a share of each ceiling ``RATIOS`` names for it, with its verdict:
        "0.033 of pgbench (≥ 0.12: MISSED 3.6×)"."""
        ceilings = {r.key: r for r in self.rows if r.key}
        out = []
        for ratio in RATIOS:
            ceiling = ceilings.get(ratio.ceiling)
            if not row.key or ratio.figure != row.key or ceiling is None or not ceiling.median:
                continue
            value = row.median / ceiling.median
            text = f"{value:.3g} of {ratio.name}"
            if ratio.target is not None:
                verdict = "met" if ratio.target.met(value) else f"MISSED {ratio.target.miss(value).split(' ')[0]}"
                text += f" ({ratio.target.text}: {verdict})"
            out.append(text)
        return out

    def _table(self, rows: list[Row], *, notes: bool) -> list[str]:
        lines = [
            "| benchmark | measure | median | min–max | runs | target | verdict | ÷ ceiling (same run) |",
            "|---|---|---:|---:|---:|---|---|---|",
        ]
        for r in rows:
            med, lo, hi = spread(r.values)
            measure = f"↳ ceiling: {r.measure}" if r.ceiling else r.measure
            if notes and r.note:
                measure += f" ({r.note})"
            lines.append(
                f"| {r.bench} | {measure} | {_fmt(med)} {r.unit} | {_fmt(lo)}–{_fmt(hi)} | "
                f"{len(r.values)} | {r.target.text if r.target else ''} | {r.verdict()} | {'; '.join(self.ratios(r))} |"
            )
        return lines

    def markdown(self) -> str:
        """The whole report, saved as ``bench/results/<profile>-<time>.md``: every row with its
        CPU breakdown, the ceilings, the notes and the py-spy summaries."""
        lines = [self.header(), "", *self._table(self.rows, notes=True)]
        lines += [""] + [f"- {n}" for n in self.notes]
        for label, text in self.profiles.items():
            lines += ["", f"<details><summary>py-spy: {label}</summary>", "", "```", text, "```", "</details>"]
        return "\n".join(lines) + "\n"

    def summary(self, full: str) -> str:
        """What bench/README.md shows of a run: the figures that have a target, and a link to
        the whole report (``full``, relative to the README)."""
        lines = [
            self.header(),
            "",
            *self._table([r for r in self.rows if r.target or self.ratios(r)], notes=False),
            "",
            f"Every figure with its CPU per request, the ceilings, the notes and the py-spy "
            f"summaries: [{full}]({full}).",
            "",
        ]
        return "\n".join(lines)

    def rich_table(self):
        from rich.table import Table

        table = Table(title=self.header(), title_justify="left")
        for col in ("benchmark", "measure", "median", "min–max", "target", "verdict", "÷ ceiling"):
            table.add_column(col, justify="right" if col in ("median", "min–max") else "left")
        for r in self.rows:
            med, lo, hi = spread(r.values)
            verdict = r.verdict()
            style = "red" if verdict.startswith("MISSED") else "green" if verdict == "met" else None
            measure = ("  ↳ ceiling: " if r.ceiling else "") + r.measure + (f" ({r.note})" if r.note else "")
            table.add_row(
                r.bench,
                measure,
                f"{_fmt(med)} {r.unit}",
                f"{_fmt(lo)}–{_fmt(hi)}",
                r.target.text if r.target else "",
                verdict,
                "; ".join(self.ratios(r)),
                style=style,
            )
        return table

    def save(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"{self.profile}-{stamp}.json"
        path.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False))
        (RESULTS_DIR / f"{self.profile}-{stamp}.md").write_text(self.markdown())
        return path

    @classmethod
    def load(cls, path: Path) -> Report:
        """A saved report (``bench/results/*.json``), e.g. to put it into the README again."""
        raw = json.loads(path.read_text())
        rows = [Row(**{**r, "target": Target(**r["target"]) if r.get("target") else None}) for r in raw.pop("rows")]
        return cls(**raw, rows=rows)

    def write_readme(self, full: Path, path: Path = README) -> bool:
        """Replace the block between ``<!-- results:PROFILE -->`` and ``<!-- /results:PROFILE -->``
        with the summary of this run, linking to its saved ``full`` report (the ``.md``)."""
        if not path.exists():
            return False
        text = path.read_text()
        start, end = f"<!-- results:{self.profile} -->", f"<!-- /results:{self.profile} -->"
        if start not in text or end not in text:
            return False
        try:
            link = full.resolve().relative_to(path.parent.resolve()).as_posix()
        except ValueError:
            link = str(full)
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        path.write_text(f"{before}{start}\n{self.summary(link)}{end}{after}")
        return True
