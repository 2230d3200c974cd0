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
