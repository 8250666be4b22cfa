"""Rules I4, I5, I6, I12: whether a published member item gets an SCF mirror."""

from __future__ import annotations

from domain.scf.institutions import Consortium, Institution, Library
from domain.scf.items.decisions import (
    ItemAction,
    ItemDecision,
    decide_delete,
    decide_update,
    in_remote_storage,
    is_delete_file,
)

from .samples import AB, CD, CONSORTIUM, REMOTE_STORAGE, SCF


def test_I4_a_file_whose_name_contains_delete_in_any_case_holds_deletions() -> None:
    assert is_delete_file("TIMDEX_ALMA_EXPORT_20220912_210929[053]_delete.xml")
    assert is_delete_file("export_DELETE_3.tar.gz")
    assert is_delete_file("items/20240101_Delete.xml")


def test_I4_any_other_name_holds_updates() -> None:
    assert not is_delete_file("TIMDEX_ALMA_EXPORT_20220912_210929[053]_new.xml")
    assert not is_delete_file("export_update_1.tar.gz")
    assert not is_delete_file("deleted.xml")


def test_I4_only_the_file_name_counts_not_its_folder() -> None:
    assert not is_delete_file("incoming_delete/export_new.xml")
    assert not is_delete_file("C:\\old_delete\\export_new.xml")


def test_I5_an_item_at_a_configured_remote_storage_location_is_in_remote_storage() -> None:
    assert in_remote_storage(CONSORTIUM, CD, "CDRS", "rs_shared_2")
    assert in_remote_storage(CONSORTIUM, AB.lower(), "ABRS", "rs_shared_in_ab")


def test_I5_a_location_only_a_substring_of_a_remote_storage_location_is_not_in_it() -> None:
    # the Java app tested ["rs_shared_1", ...].toString().contains($l)
    for location in ("rs_shared", "1", "shared", '"rs_shared_1"', "rs_shared_1,"):
        assert not in_remote_storage(CONSORTIUM, CD, "CDRS", location)


def test_I5_the_location_must_belong_to_the_item_library_of_the_item_institution() -> None:
    assert not in_remote_storage(CONSORTIUM, AB, "CDRS", "rs_shared_1")
    assert not in_remote_storage(CONSORTIUM, CD, "ABRS", "rs_shared_in_ab")
    assert not in_remote_storage(CONSORTIUM, CD, "cdrs", "rs_shared_1")
    assert not in_remote_storage(CONSORTIUM, "01AAA_ZZ", "CDRS", "rs_shared_1")


def test_I5_without_a_library_or_location_an_item_is_not_in_remote_storage() -> None:
    assert not in_remote_storage(CONSORTIUM, CD, None, "rs_shared_1")
    assert not in_remote_storage(CONSORTIUM, CD, "CDRS", None)
    assert not in_remote_storage(CONSORTIUM, CD, "CDRS", "")


def test_I5_the_scf_own_libraries_are_never_a_member_remote_storage() -> None:
    consortium = Consortium(
        remote_storage=REMOTE_STORAGE,
        institutions=(Institution(SCF, libraries=(Library("RS", None, frozenset({"rs"})),)),),
    )
    assert not in_remote_storage(consortium, SCF, "RS", "rs")


def test_I6_absent_and_not_in_remote_storage_means_nothing() -> None:
    decision = decide_update(
        scf_item_exists=False, in_remote_storage=False, ignore_delete_files=False
    )
    assert decision.action is ItemAction.NOTHING


def test_I6_absent_and_in_remote_storage_means_create() -> None:
    decision = decide_update(
        scf_item_exists=False, in_remote_storage=True, ignore_delete_files=True
    )
    assert decision == ItemDecision(ItemAction.CREATE, "in remote storage and not yet in the SCF")


def test_I6_present_and_in_remote_storage_means_update() -> None:
    decision = decide_update(scf_item_exists=True, in_remote_storage=True, ignore_delete_files=True)
    assert decision.action is ItemAction.UPDATE


def test_I6_present_and_no_longer_in_remote_storage_means_delete() -> None:
    decision = decide_update(
        scf_item_exists=True, in_remote_storage=False, ignore_delete_files=False
    )
    assert decision.action is ItemAction.DELETE


def test_I6_present_and_not_in_remote_storage_is_kept_while_ignore_delete_files() -> None:
    decision = decide_update(
        scf_item_exists=True, in_remote_storage=False, ignore_delete_files=True
    )
    assert decision.action is ItemAction.NOTHING
    assert "ignore_delete_files" in decision.reason


def test_I4_I12_a_delete_record_is_skipped_while_ignore_delete_files() -> None:
    decision = decide_delete(scf_item_exists=True, ignore_delete_files=True)
    assert decision == ItemDecision(
        ItemAction.NOTHING, "delete files are ignored (ignore_delete_files)"
    )


def test_I12_a_delete_record_deletes_the_mirror_when_it_exists() -> None:
    assert (
        decide_delete(scf_item_exists=True, ignore_delete_files=False).action is ItemAction.DELETE
    )


def test_I12_a_delete_record_without_a_mirror_does_nothing() -> None:
    assert (
        decide_delete(scf_item_exists=False, ignore_delete_files=False).action is ItemAction.NOTHING
    )
