"""bench/README.md gets a run's summary, not its whole report: the figures with a target and
a link to the saved result file, which keeps every row and the py-spy summaries."""

from __future__ import annotations

from pathlib import Path

from bench.results import Report, Target

README = """# Benchmarks

method...

<!-- results:quick -->
old block
<!-- /results:quick -->

limits...
"""


def _report() -> Report:
    report = Report(profile="quick", command="python -m bench --profile quick", data="tiny")
    report.add(
        "1 write path",
        "commands/s capacity",
        "/s",
        [560, 568, 590],
        target=Target(">=", 2000, "≥ 2,000 /s"),
        note="CPU ms per request: contracts 1.41",
    )
    report.add("1 write path", "pgbench single-row INSERT", "tps", [17234], ceiling=True)
    report.add("6 queries", "coverage p99", "ms", [2.5], target=Target("<=", 5, "p99 ≤ 5 ms"))
    report.profiles["1 write path — contracts"] = "asyncpg _do_execute 22.5 %"
    return report


def test_the_readme_block_is_the_summary_with_a_link_to_the_full_report(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    report = _report()
    full = tmp_path / "results" / "quick-1.md"
    full.parent.mkdir()
    full.write_text(report.markdown())

    assert report.write_readme(full, readme)

    text = readme.read_text()
    block = text.split("<!-- results:quick -->")[1].split("<!-- /results:quick -->")[0]
    assert "old block" not in text and text.startswith("# Benchmarks") and text.endswith("limits...\n")
    assert "commands/s capacity" in block and "MISSED" in block and "coverage p99" in block
    assert "pgbench" not in block and "py-spy: " not in block and "contracts 1.41" not in block
    assert "[results/quick-1.md](results/quick-1.md)" in block


def test_the_saved_report_keeps_every_row_note_and_profile() -> None:
    full = _report().markdown()
    assert "↳ ceiling: pgbench single-row INSERT" in full
    assert "CPU ms per request: contracts 1.41" in full
    assert "<details><summary>py-spy: 1 write path — contracts</summary>" in full


def test_a_readme_without_the_profile_block_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n")
    assert not _report().write_readme(tmp_path / "full.md", readme)
    assert readme.read_text() == "# Benchmarks\n"


def test_each_figure_is_read_as_a_share_of_its_ceiling_in_the_same_run() -> None:
    """Issue 20's yardstick: the ratio to the ceiling measured beside the figure, with its verdict."""
    report = Report(profile="quick", command="python -m bench --profile quick", data="tiny")
    report.add("1 write path", "commands/s capacity", "/s", [560, 568, 590], key="write_capacity")
    report.add("1 write path", "pgbench", "tps", [17234, 17000], ceiling=True, key="pgbench")
    report.add("1 write path", "loop", "ev/s", [2840], ceiling=True, key="append_ceiling")
    report.add("2 outbox relay", "events/s", "ev/s", [53377], key="relay")
    report.add("2 outbox relay", "ProducerPerformance", "rec/s", [60000], ceiling=True, key="producer_perf")
    report.add("4 end-to-end", "accepted → visible p50", "ms", [30.0], key="visible_p50")
    report.add("4 end-to-end", "↳ stage Kafka", "ms", [4.0], key="readable_p50")
    rows = {r.key: report.ratios(r) for r in report.rows}
    assert rows["write_capacity"] == [
        "0.0332 of pgbench (≥ 0.12: MISSED 3.6×)",
        "0.2 of asyncpg+aiokafka loop",
    ]
    assert rows["relay"] == ["0.89 of ProducerPerformance (≥ 0.8: met)"]
    assert rows["visible_p50"] == ["7.5 of Kafka produced → readable p50 (≤ 6: MISSED 1.2×)"]
    assert rows["pgbench"] == [] and rows["readable_p50"] == []
    summary = report.summary("results/quick-1.md")
    assert "0.0332 of pgbench" in summary and "0.89 of ProducerPerformance" in summary
