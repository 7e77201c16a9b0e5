"""imsync tag: policy tags written through IMS, refused before anything is written when the functions would refuse."""

from __future__ import annotations

from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes


def test_tag_writes_the_policy_tags_through_ims(cloud, env, run):
    image = cloud.region(HOME).add_image(name="golden", tags={"team": "web"})

    result = run("tag", "golden", "--regions", "cn-east-3,ap-southeast-1", "--share", "partner", "--when", "event")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"tagged golden ({image.id}) in {HOME}: imsync-regions=cn-east-3_ap-southeast-1, imsync-share=partner, "
        "imsync-when=event"
    )
    assert cloud.region(HOME).image(image.id).tags == {
        "team": "web",
        "imsync-regions": "cn-east-3_ap-southeast-1",
        "imsync-share": "partner",
        "imsync-when": "event",
    }
    assert writes(cloud) == [f"POST /v2/{cloud.owner.projects[HOME]}/images/{image.id}/tags/action"]
    plan = as_json(run("plan", "--json"))
    assert {r["region"] for r in plan["results"] if r["section"] == "copy"} == {"cn-east-3", "ap-southeast-1"}


def test_an_invalid_value_is_refused_before_anything_is_written(cloud, env, run):
    image = cloud.region(HOME).add_image(name="golden")

    cases = (
        (["--regions", "cn-east-3,eu-west-0"], "'eu-west-0' is not in IMSYNC_ALLOWED_REGIONS"),
        (["--share", "nobody"], "'nobody' is not a share target in IMSYNC_SHARE_TARGETS"),
        (["--regions", "cn-east-3", "--share", "partner!"], "characters IMS tag values do not allow"),
        (["--regions", ",,"], "imsync-regions: the value is empty"),
        (["--regions", "cn-east-3_cn-south-1_ap-southeast-1_cn-east-3_cn-south-1_ap-southeast-1x"], "43"),
    )
    for args, words in cases:
        result = run("tag", image.id, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: nothing was written: ") and words in result.stderr, args
    assert run("tag", image.id, "--when", "sometimes").exit_code == 2  # click's choice
    assert writes(cloud) == [] and cloud.region(HOME).image(image.id).tags == {}


def test_remove_show_and_the_images_it_refuses(cloud, env, run):
    image = cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3", "team": "web"})
    replica = cloud.region("cn-east-3").add_image(
        name="copy", tags={"imsync-source": image.id, "imsync-source-region": HOME}
    )
    for _ in range(2):
        cloud.region(HOME).add_image(name="twin")

    shown = run("tag", image.id)
    removed = as_json(run("tag", image.id, "--remove", "--json"))
    on_replica = run("tag", replica.id, "--regions", "cn-south-1", "--region", "cn-east-3")
    ambiguous = run("tag", "twin", "--regions", "cn-east-3")
    unknown = run("tag", "nothing-called-this", "--regions", "cn-east-3")

    assert shown.stdout.strip() == f"golden ({image.id}) in {HOME}: imsync-regions=cn-east-3"
    assert removed["removed"] == ["imsync-regions"] and removed["tags"] == {}
    assert cloud.region(HOME).image(image.id).tags == {"team": "web"}
    assert on_replica.exit_code == 2 and "is a replica made by imsync" in on_replica.stderr
    assert ambiguous.exit_code == 2 and "2 images are named twin" in ambiguous.stderr
    assert unknown.exit_code == 1 and "no private image with the ID or name nothing-called-this" in unknown.stderr


def test_tag_on_the_emulator_option(run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    result = run("tag", "web-base", "--regions", "cn-east-3", "--emulator", "--json")

    assert as_json(result)["tags"]["imsync-regions"] == "cn-east-3"


def test_region_without_anything_to_write_is_refused_as_a_likely_slip(cloud, env, run):
    """--region (where the image is) alone is --regions missing its "s" (issue 23, point 14)."""
    image = cloud.region(HOME).add_image(name="web-base")

    slip = run("tag", "web-base", "--region", "cn-east-3")
    elsewhere = run("tag", "web-base", "--region", "cn-east-3", "--share", "partner")

    assert slip.exit_code == 2 and cloud.region(HOME).image(image.id).tags == {}
    assert "error: --region cn-east-3 only says where web-base is, and nothing was asked to be written" in slip.stderr
    assert "fix: to replicate it there: imsync tag web-base --regions cn-east-3" in slip.stderr
    assert elsewhere.exit_code == 1 and "--regions cn-east-3 what to replicate to" in elsewhere.stderr
