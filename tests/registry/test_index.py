"""The registry index: apply, replace, revoke, tombstone, shared keys."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guard.registry.index import RegistryIndex
from guard.registry.model import Match, ProtectionBasis, ProtectionRecord, ProtectionStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def key(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def record(
    record_ref: str,
    *labels: str,
    basis: ProtectionBasis = ProtectionBasis.U_VISA,
    status: ProtectionStatus = ProtectionStatus.ACTIVE,
    weak: tuple[str, ...] = (),
) -> ProtectionRecord:
    return ProtectionRecord(
        record_ref=record_ref,
        basis=basis,
        status=status,
        created_at=T0,
        updated_at=T0,
        blinding_key_id="k1",
        blinded_keys=frozenset(key(label) for label in labels),
        weak_keys=frozenset(key(label) for label in weak),
    )


def test_empty_index_matches_nothing() -> None:
    index = RegistryIndex()
    assert index.match([key("a")]) == ()
    assert len(index) == 0
    assert index.active_count == 0


def test_applied_record_matches_any_of_its_keys() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", "b"))
    assert index.match([key("b")]) == (Match("r1", ProtectionBasis.U_VISA),)
    assert index.match([key("x"), key("a")]) == (Match("r1", ProtectionBasis.U_VISA),)
    assert index.match([key("x")]) == ()
    assert "r1" in index
    assert "r2" not in index
    assert index.active_count == 1
    assert index.key_count == 2


def test_record_matching_on_several_keys_is_reported_once() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", "b"))
    assert index.match([key("a"), key("b"), key("a")]) == (Match("r1", ProtectionBasis.U_VISA),)


def test_new_version_replaces_the_old_keys_and_basis() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", "b"))
    index.apply("r1", record("r1", "b", "c", basis=ProtectionBasis.T_VISA))
    assert index.match([key("a")]) == ()
    assert index.match([key("c")]) == (Match("r1", ProtectionBasis.T_VISA),)
    assert index.active_count == 1
    assert index.key_count == 2


@pytest.mark.parametrize(
    "lifting",
    [None, record("r1", "a", status=ProtectionStatus.REVOKED)],
    ids=["tombstone", "revoked"],
)
def test_revoke_or_tombstone_removes_record_and_keys(lifting: ProtectionRecord | None) -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", "b"))
    index.apply("r1", lifting)
    assert index.match([key("a"), key("b")]) == ()
    assert "r1" not in index
    assert index.active_count == 0
    assert index.key_count == 0


def test_revoked_record_for_unknown_id_is_a_no_op() -> None:
    index = RegistryIndex()
    index.apply("r9", None)
    index.apply("r9", record("r9", "a", status=ProtectionStatus.REVOKED))
    assert len(index) == 0
    assert index.match([key("a")]) == ()


def test_reactivated_record_matches_again() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a"))
    index.apply("r1", None)
    index.apply("r1", record("r1", "a"))
    assert index.match([key("a")]) == (Match("r1", ProtectionBasis.U_VISA),)


def test_shared_key_matches_every_holder_in_id_order() -> None:
    index = RegistryIndex()
    index.apply("r2", record("r2", "shared", "only2", basis=ProtectionBasis.T_VISA))
    index.apply("r1", record("r1", "shared", "only1"))
    index.apply("r3", record("r3", "shared"))
    assert [m.record_ref for m in index.match([key("shared")])] == ["r1", "r2", "r3"]
    assert index.match([key("shared")])[1].basis is ProtectionBasis.T_VISA


def test_removing_one_holder_of_a_shared_key_keeps_the_others() -> None:
    index = RegistryIndex()
    for record_id in ("r1", "r2", "r3"):
        index.apply(record_id, record(record_id, "shared"))
    index.apply("r2", None)
    assert [m.record_ref for m in index.match([key("shared")])] == ["r1", "r3"]
    index.apply("r1", None)
    assert [m.record_ref for m in index.match([key("shared")])] == ["r3"]
    index.apply("r3", record("r3", "other"))
    assert index.match([key("shared")]) == ()
    assert index.key_count == 1


def test_active_record_without_keys_is_held_but_never_matches() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1"))
    assert "r1" in index
    assert index.key_count == 0


def test_repr_shows_counts_only() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a"))
    assert repr(index) == "RegistryIndex(1 active records, 1 keys)"


def test_index_keeps_no_object_per_key() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", "b", "c", weak=("w",)))
    assert not hasattr(index, "__dict__")
    for table, count in ((index._strong, 3), (index._weak, 1)):
        held = table.entry_arrays()
        assert sum(len(entries) for entries in held) == count
        assert all(entries.typecode == "Q" for entries in held)


def test_freed_record_numbers_are_reused() -> None:
    index = RegistryIndex()
    for n in range(50):
        index.apply(f"r{n}", record(f"r{n}", f"k{n}"))
        index.apply(f"r{n}", None)
    index.apply("last", record("last", "k"))
    assert len(index._ids) == 1
    assert index.match([key("k")]) == (Match("last", ProtectionBasis.U_VISA),)


_operations = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3", "r4"]),
        st.one_of(
            st.none(),
            st.tuples(
                st.frozensets(st.sampled_from("abcdef"), max_size=4),
                st.sampled_from(list(ProtectionStatus)),
                st.sampled_from(list(ProtectionBasis)),
            ),
        ),
    ),
    max_size=30,
)


Version = tuple[frozenset[str], ProtectionStatus, ProtectionBasis]


@given(_operations)
def test_index_agrees_with_a_naive_model(operations: list[tuple[str, Version | None]]) -> None:
    """After any sequence of versions and tombstones, matches equal a brute-force scan."""
    index = RegistryIndex()
    latest: dict[str, ProtectionRecord | None] = {}
    for record_id, version in operations:
        if version is None:
            applied = None
        else:
            labels, status, basis = version
            applied = record(record_id, *labels, basis=basis, status=status)
        index.apply(record_id, applied)
        latest[record_id] = applied
    active = {rid: rec for rid, rec in latest.items() if rec is not None and rec.is_active}
    assert index.active_count == len(active)
    assert index.key_count == len({k for rec in active.values() for k in rec.blinded_keys})
    for label in "abcdefg":
        expected = tuple(
            Match(rid, rec.basis)
            for rid, rec in sorted(active.items())
            if key(label) in rec.blinded_keys
        )
        assert index.match([key(label)]) == expected


def test_graded_match_is_strong_only_where_strong_meets_strong() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", weak=("w",)))
    strong = Match("r1", ProtectionBasis.U_VISA, is_strong=True)
    weak = Match("r1", ProtectionBasis.U_VISA, is_strong=False)
    assert index.match_graded([key("a")], []) == (strong,)
    assert index.match_graded([], [key("a")]) == (weak,)  # a weak probe of a strong key
    assert index.match_graded([key("w")], []) == (weak,)  # a strong probe of a weak key
    assert index.match_graded([key("w")], [key("a")]) == (weak,)
    assert index.match_graded([key("a")], [key("w")]) == (strong,)
    assert index.match_graded([key("x")], [key("y")]) == ()
    assert index.match([key("w")]) == ()  # the plain match sees strong keys only


def test_weak_keys_go_away_with_their_record() -> None:
    index = RegistryIndex()
    index.apply("r1", record("r1", "a", weak=("w",)))
    index.apply("r2", record("r2", "b", weak=("w",)))
    assert index.key_count == 3
    index.apply("r1", None)
    assert [m.record_ref for m in index.match_graded([], [key("w")])] == ["r2"]
    index.apply("r2", record("r2", "b", status=ProtectionStatus.REVOKED))
    assert index.match_graded([key("a"), key("b")], [key("w")]) == ()
    assert index.key_count == 0
