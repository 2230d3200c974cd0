"""The advisory-lock registry: every fixed id is distinct and a partition key's lock is stable."""

from shared.db import locks


def test_every_one_key_lock_id_is_distinct_and_a_signed_bigint() -> None:
    ids = [locks.MIGRATION_LOCK, locks.RELAY_LOCK, locks.SWAP_LOCK, locks.REBUILD_LOCK]
    assert len(set(ids)) == len(ids)
    assert all(-(2**63) <= i < 2**63 for i in ids)


def test_the_partition_lock_class_fits_the_two_key_space() -> None:
    assert -(2**31) <= locks.PARTITION_LOCK_CLASS < 2**31


def test_a_partition_keys_lock_is_stable_across_processes_and_apart_from_the_fixed_ids() -> None:
    # blake2b, not hash(): the same key must lock the same id in every process and replica
    assert locks.key_lock("client-1") == locks.key_lock("client-1")
    assert locks.key_lock("00000000-0000-0000-0000-000000000001") == 5406961667139790696  # as before the move
    assert locks.key_lock("client-1") != locks.key_lock("client-2")
    assert -(2**63) <= locks.key_lock("x") < 2**63
