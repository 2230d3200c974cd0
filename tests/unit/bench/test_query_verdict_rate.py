"""A read's latency target is judged where the host is not queueing: the profile's rate when
the host carries it with room to spare, else half the measured capacity."""

from bench.queries import verdict_rate


def test_a_host_with_room_is_judged_at_the_profiles_rate() -> None:
    assert verdict_rate(500, capacity=2_400) == 500


def test_a_slower_host_is_judged_at_half_its_capacity() -> None:
    """The 1 December full-scale run offered coverage 500/s on a host that managed about as
    much flat out: its p99 of 5.4 s measured the queue."""
    assert verdict_rate(500, capacity=520) == 260
