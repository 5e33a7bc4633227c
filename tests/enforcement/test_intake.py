"""What an analyst types or uploads, read and checked before anything is written (pure: no
Slack, no database)."""

from __future__ import annotations

import pytest

from tests.harness.world import config_data
from workflows.config import parse_config
from workflows.enforcement.intake import (
    Draft,
    check_accounts,
    check_draft,
    find_case_ref,
    idempotency_key,
    parse_ref,
    read_id_file,
    request_ref,
    split_ids,
)

CONFIG = parse_config(config_data()).enforcement


def draft(**fields: object) -> Draft:
    values: dict[str, object] = {"action": "suspend", "requester": "U0ANA0001", "reason_code": "spam"}
    return Draft(**{**values, **fields})  # type: ignore[arg-type]


# --- ids ------------------------------------------------------------------------------------------
def test_pasted_ids_split_on_spaces_commas_semicolons_and_new_lines() -> None:
    assert split_ids("acct_1, acct_2;acct_3\n\tacct_4  acct_5\r\n") == [
        "acct_1",
        "acct_2",
        "acct_3",
        "acct_4",
        "acct_5",
    ]
    assert split_ids("") == [] and split_ids(" ,; \n") == []


def test_id_files_of_every_shape() -> None:
    assert read_id_file(b"acct_1\nacct_2\n\n acct_3 \n") == ["acct_1", "acct_2", "acct_3"]
    assert read_id_file(b"\xef\xbb\xbfid\nacct_1\n") == ["acct_1"]
    assert read_id_file(b"email,account_id\nx@y,acct_9\n") == ["acct_9"]
    assert read_id_file(b"acct_1, acct_2\nacct_3") == ["acct_1", "acct_3"]  # first column of a CSV
    assert read_id_file(b"acct_1 acct_2\n") == ["acct_1", "acct_2"]
    assert read_id_file(b"") == []


def test_a_spreadsheet_export_with_a_bom_a_header_extra_columns_and_gaps() -> None:
    exported = (
        "\ufeffEmail,Account ID,Note\r\n"
        "a@example.com,acct_1,first\r\n"
        ",,\r\n"
        "b@example.com,,no id on this row\r\n"
        "c@example.com, acct_2 ,\r\n"
    ).encode()
    assert read_id_file(exported) == ["acct_1", "acct_2"]


def test_a_header_alone_or_blank_lines_alone_hold_no_ids() -> None:
    assert read_id_file(b"account_id\n") == []
    assert read_id_file(b"\n\n  \n") == []
    assert read_id_file(b"\xef\xbb\xbf") == []


def test_bytes_that_are_not_utf8_do_not_stop_the_rest_of_the_file() -> None:
    ids = read_id_file(b"acct_1\n\xff\xfe\nacct_2\n")
    assert ids[0] == "acct_1" and ids[-1] == "acct_2"
    assert check_accounts(ids, CONFIG).malformed == ["\ufffd\ufffd"]  # named back, not guessed


def test_accounts_are_deduplicated_in_first_seen_order_and_bad_ids_named() -> None:
    checked = check_accounts(["acct_2", " acct_1 ", "acct_2", "bad/id", "", "acct_1"], CONFIG)
    assert checked.accounts == ["acct_2", "acct_1"]
    assert checked.duplicates == ["acct_2", "acct_1"]
    assert checked.malformed == ["bad/id"]
    assert not checked.too_many


def test_more_accounts_than_bulk_max_is_too_many_and_not_one_more() -> None:
    limit = CONFIG.bulk_max
    assert not check_accounts([f"acct_{n}" for n in range(limit)], CONFIG).too_many
    assert check_accounts([f"acct_{n}" for n in range(limit + 1)], CONFIG).too_many


# --- refs and keys --------------------------------------------------------------------------------
def test_request_refs_read_back_in_any_case_or_bare() -> None:
    assert request_ref(12) == "REQ-12"
    assert parse_ref("REQ-12") == parse_ref("req-12") == parse_ref(" 12 ") == 12
    for bad in ("REQ-", "REQ-x", "12a", "CASE-12", ""):
        assert parse_ref(bad) is None


def test_the_idempotency_key_is_the_contract_of_design_md() -> None:
    assert idempotency_key(7, "acct_1", "suspend") == "vigil:REQ-7:acct_1:suspend"
    assert idempotency_key(7, "acct_1", "suspend") == idempotency_key(7, "acct_1", "suspend")
    assert idempotency_key(7, "acct_1", "reinstate") != idempotency_key(7, "acct_1", "suspend")


def test_the_first_case_named_in_the_evidence_or_the_note_links_the_request() -> None:
    assert find_case_ref("see case-007 and CASE-9") == "CASE-7"
    assert find_case_ref("", "note: CASE-12") == "CASE-12"
    assert find_case_ref("SHOWCASE-3 is not a case", "") is None


# --- the draft -------------------------------------------------------------------------------------
def test_a_good_draft_has_no_errors_and_counts_its_duplicates() -> None:
    checked = check_draft(draft(accounts_text="acct_1 acct_2 acct_1", file_ids=["acct_2", "acct_3"]), CONFIG)
    assert checked.ok and checked.errors == {}
    assert checked.accounts == ["acct_1", "acct_2", "acct_3"]
    assert checked.duplicates == ["acct_1", "acct_2"]


def test_bad_ids_are_named_on_the_field_they_came_from() -> None:
    checked = check_draft(draft(accounts_text="acct_1 bad/id", file_ids=["acct_2", "<script>"]), CONFIG)
    assert checked.errors == {
        "accounts": "1 id(s) are not account ids: bad/id",
        "file": "1 id(s) in the file are not account ids: <script>",
    }


def test_a_long_list_of_bad_ids_is_named_up_to_five() -> None:
    bad = " ".join(f"bad/{n}" for n in range(8))
    error = check_draft(draft(accounts_text=bad), CONFIG).errors["accounts"]
    assert error == "8 id(s) are not account ids: bad/0, bad/1, bad/2, bad/3, bad/4 and 3 more"


def test_nothing_to_act_on_and_no_reason_are_two_errors() -> None:
    checked = check_draft(draft(reason_code=None), CONFIG)
    assert checked.errors == {
        "accounts": "Give at least one account id here, or upload a file.",
        "reason": "Pick a reason.",
    }
    unknown = check_draft(draft(accounts_text="acct_1", reason_code="vibes"), CONFIG)
    assert unknown.errors == {"reason": "Unknown reason 'vibes'; pick one of the list."}


@pytest.mark.parametrize(("typed", "from_file", "field"), [(True, False, "accounts"), (False, True, "file")])
def test_too_many_accounts_is_an_error_where_they_came_from(typed: bool, from_file: bool, field: str) -> None:
    ids = [f"acct_{n}" for n in range(CONFIG.bulk_max + 1)]
    checked = check_draft(
        draft(accounts_text=" ".join(ids) if typed else "", file_ids=ids if from_file else []), CONFIG
    )
    assert checked.errors == {field: "10,001 accounts: at most 10,000 in one request. Split the list."}


def test_a_reinstatement_needs_the_review_and_the_root_cause() -> None:
    checked = check_draft(
        draft(action="reinstate", accounts_text="acct_1", checklist=["appeal_reviewed"]), CONFIG
    )
    assert checked.errors == {
        "checklist": "Before a reinstatement: Original evidence re-checked.",
        "root_cause": "Say what went wrong the first time (the root cause).",
    }
    complete = draft(
        action="reinstate",
        accounts_text="acct_1",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="a false positive",
    )
    assert check_draft(complete, CONFIG).ok
