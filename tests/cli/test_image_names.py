"""--image takes a name as well as an ID, refuses an ambiguous one, and --wide shows the IDs (issue 23, point 4)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import HOME
from tests.cli.support import as_json

OPTED_IN = {"imsync-regions": "cn-east-3"}


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
def test_a_name_selects_its_image(cloud, env, run, command):
    golden = cloud.region(HOME).add_image(name="golden", tags=OPTED_IN)
    other = cloud.region(HOME).add_image(name="other", tags=OPTED_IN)

    data = as_json(run(command, "--image", "golden", "--json"))

    assert data["ok"] is True, data
    key = "images" if command == "status" else "results"
    assert {item["image_id"] for item in data[key]} == {golden.id}
    assert other.id not in str(data)


def test_an_ambiguous_name_is_refused_with_the_candidates(cloud, env, run):
    first = cloud.region(HOME).add_image(name="golden", tags=OPTED_IN)
    second = cloud.region(HOME).add_image(name="golden", tags=OPTED_IN)

    result = run("plan", "--image", "golden")

    assert result.exit_code == 2
    assert "--image golden: 2 source images have this name" in result.stderr
    assert first.id in result.stderr and second.id in result.stderr and "give the ID" in result.stderr


def test_an_unknown_name_is_named(cloud, env, run):
    result = run("status", "--image", "nosuch")

    assert result.exit_code == 1
    assert "error: --image nosuch: no source image has this name or ID in cn-north-4" in result.stderr


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
def test_wide_shows_the_image_ids(cloud, env, run, command):
    golden = cloud.region(HOME).add_image(name="golden", tags=OPTED_IN)

    narrow, wide = run(command, "--image", golden.id), run(command, "--wide")

    assert golden.id not in narrow.stdout
    assert [line for line in wide.stdout.splitlines() if "golden" in line and golden.id in line], wide.stdout
