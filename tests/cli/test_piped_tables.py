"""Off a terminal every table is plain text: no box drawing, no cell cut, one line per row (issue 23, points 2, 11).

The CLI runner's output is not a terminal, as with `imsync ... | cat`. COLUMNS is unset, so a command that
let rich size its tables would wrap them at 80 columns.
"""

from __future__ import annotations

import json

import pytest

from imsync.demo.estate import seed_demo_estate
from tests.cli.conftest import HOME

BOX = set("┏┓┗┛┃━│─┡┩└┘┌┐╇╈┼")


@pytest.fixture(autouse=True)
def no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def plain(text: str) -> str:
    assert not BOX & set(text), text
    assert all(line == line.rstrip() for line in text.splitlines()), "a line is padded with spaces"
    return text


def line_with(text: str, *words: str) -> str:
    """The one line that holds every word: a row is never split over several lines."""
    found = [line for line in text.splitlines() if all(word in line for word in words)]
    assert len(found) == 1, (words, text)
    return found[0]


def test_plan_prints_one_line_per_result(cloud, env, run):
    seed_demo_estate(cloud)

    out = plain(run("plan").stdout)

    line_with(out, "warehouse", "refused", "IMS copies at most 300 GB out of cn-north-4; make a smaller image")
    assert out.splitlines()[1].split() == ["section", "image", "from", "region", "outcome", "reason"]


def test_apply_prints_one_line_per_result_and_per_copy(cloud, env, run):
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"}, size_gb=1)

    out = plain(run("apply", "--wait", "--poll", "0.01", "--timeout", "0.001").stdout)

    line_with(out, "copy", "golden", "cn-east-3", "copy started", "no replica in cn-east-3")
    (job,) = cloud.jobs()
    line_with(out, job.id, "golden", "cn-east-3", "INIT")


def test_status_prints_one_line_per_image_with_its_shares(cloud, env, run):
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})

    out = plain(run("status").stdout)

    line_with(out, "golden", "source", "partner:not_shared", "missing")


def test_accept_shows_the_whole_owner_id(cloud, env, run, monkeypatch):
    partner = cloud.recipient.projects[HOME]
    stranger = cloud.add_account("stranger")
    cloud.region(HOME).add_image(name="their-tool", owner=stranger, members={partner: "pending"})
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", cloud.recipient.ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", cloud.recipient.sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", cloud.recipient.domain_id)

    out = plain(run("accept", "--dry-run").stdout)

    owner = stranger.projects[HOME]
    assert line_with(out, "their-tool", "untrusted").split()[2] == owner


def test_invoke_prints_one_line_per_result(cloud, env, run, tmp_path):
    seed_demo_estate(cloud)
    (tmp_path / "sweep.json").write_text(json.dumps({"dry_run": True}))

    out = plain(run("invoke", "scheduled_dr_copy", "sweep.json").stdout)

    line_with(out, "cn-east-3", "refuse", "refused", "IMS copies at most 300 GB out of cn-north-4")


def test_demo_prints_plain_tables(run):
    result = run("demo")

    out = plain(result.stdout)
    assert result.exit_code == 0, out
    assert "== end state ==" in out
    line_with(out, "warehouse", "refuse refused", "make a smaller image (move data to a data disk image)")
    assert "warehouse  refused         -" in out  # the end state table
