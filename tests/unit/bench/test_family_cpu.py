"""The stack's PostgreSQL CPU counts backends that ended between two readings (the rebuild
CLI's connections, a script's): ``family_cpu`` adds the parent's reaped children."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.environment import family_cpu

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_child_that_ended_between_two_readings_is_counted() -> None:
    me = os.getpid()
    own = os.times()
    before = family_cpu(me)
    subprocess.run([sys.executable, "-c", BUSY], check=True)  # started and reaped in between
    after = family_cpu(me)
    now = os.times()
    own_cpu = (now.user + now.system) - (own.user + own.system)
    assert after - before - own_cpu >= 0.25


def test_no_process_counts_nothing() -> None:
    assert family_cpu(None) == 0.0
