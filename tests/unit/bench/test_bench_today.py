"""The bench's "today" is the stack's company-zone date, so the data set and the scheduler agree.

A full-scale run started at 22:57 UTC on 30 November loaded its history "up to" the host's
date (30 November) while the scheduler, in Europe/Moscow, was already on 1 December: its
first tick then emitted the 1st of the month's time events for about a third of all
contracts, beside the benchmarks."""

from datetime import UTC, date, datetime
from pathlib import Path

from bench.environment import BenchEnv
from deploy.local.api import StackInfo

LATE_EVENING_UTC = datetime(2026, 11, 30, 22, 57, tzinfo=UTC)


def _env() -> BenchEnv:
    stack = StackInfo(
        run_dir=Path("/nonexistent"),
        kafka_bootstrap="127.0.0.1:9",
        database_urls=dict.fromkeys(("contracts", "projections", "tickets", "notifier"), "postgresql://x@h/db"),
        smtp_host="127.0.0.1",
        smtp_port=25,
        maildir=Path("/nonexistent/mail"),
    )
    return BenchEnv(stack, stack.run_dir, {})


def test_the_bench_today_is_the_date_in_the_zone_the_services_run_in() -> None:
    env = _env()
    assert env.stack.env()["ABONENT_TIMEZONE"] == "Europe/Moscow"  # what the scheduler is given
    assert env.today(LATE_EVENING_UTC) == date(2026, 12, 1)  # not the host's 30 November


def test_the_data_set_cannot_be_loaded_without_saying_which_day_is_today() -> None:
    import inspect

    from bench import datagen

    parameter = inspect.signature(datagen.load).parameters["today"]
    assert parameter.default is inspect.Parameter.empty
