"""Outcomes are an enum whose members read as today's strings: summaries, logs and CLI tables are unchanged."""

import json

from imsync.domain.outcomes import Outcome
from imsync.service import Result, Summary


def test_an_outcome_reads_as_its_plain_word_in_json_in_text_and_in_comparisons():
    summary = Summary("scheduled_dr_copy", results=[Result("img-1", "cn-east-3", "copy", Outcome.STARTED)])

    answer = json.loads(json.dumps(summary.as_dict()))

    assert answer["counts"] == {"started": 1} and answer["results"][0]["outcome"] == "started"
    # The CLI and the log build lines with f-strings: "started", never "Outcome.STARTED" (Python 3.11+).
    assert f"{Outcome.STARTED} {Outcome.ERROR:>6}" == "started  error"
    assert str(Outcome.OK) == "ok" and Outcome.OK == "ok"


def test_a_summary_is_not_ok_when_a_result_is_an_error_given_as_a_plain_word_or_an_outcome():
    for error in ("error", Outcome.ERROR):
        assert not Summary("f", results=[Result("img-1", "cn-east-3", "read", error)]).ok
    assert Summary("f", results=[Result("img-1", "cn-east-3", "read", Outcome.OK)]).ok


def test_a_summary_fails_on_errors_and_failures_only_never_on_refusals_deferrals_or_running_copies():
    def ok(outcome):
        return Summary("f", results=[Result("img-1", "cn-east-3", "copy", outcome)]).ok

    assert not ok(Outcome.ERROR) and not ok(Outcome.FAILED)
    passing = set(Outcome) - {Outcome.ERROR, Outcome.FAILED}
    assert {o for o in passing if ok(o)} == passing  # refused, deferred, waiting, stuck, started, ...
    assert not Summary("f", errors=["entry 2 of the batch: no image ID"]).ok
