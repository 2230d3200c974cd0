"""A run measured on a system that never went quiet says so in the report, once, with counts."""

from types import SimpleNamespace

from bench.measure import _count_not_quiet
from bench.results import Report


def test_every_gave_up_quiet_check_is_counted_in_one_note_naming_the_busiest_service() -> None:
    report = Report("smoke", "python -m bench --profile smoke")
    report.notes.append("an earlier note")
    ctx = SimpleNamespace(data={}, report=report)
    _count_not_quiet(ctx, "scheduler")  # type: ignore[arg-type]  # the two fields it uses
    _count_not_quiet(ctx, "notifier")  # type: ignore[arg-type]
    _count_not_quiet(ctx, "scheduler")  # type: ignore[arg-type]
    assert report.notes[0] == "an earlier note"
    assert len(report.notes) == 2
    assert report.notes[1].startswith(
        "3 quiet checks gave up after their wait (busiest service: scheduler 2×, notifier 1×)"
    )
