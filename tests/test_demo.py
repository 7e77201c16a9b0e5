import io

from click.testing import CliRunner
from rich.console import Console

from imsync.cli import cli
from imsync.demo import end_state
from imsync.demo.estate import HOME, REGIONS, seed_demo_estate, seed_partner
from imsync.demo.runner import run_demo
from imsync.emulator import Emulator


def test_demo_reaches_the_right_end_state():
    out = io.StringIO()

    assert run_demo(Console(file=out, width=160)) == 0

    text = out.getvalue()
    assert "end state is right" in text
    assert "copy deferred" in text and "refused" in text and "shared with 1 project" in text
    assert "accept_shares" in text and "accept accepted" in text and "accept untrusted" in text
    assert "accepted by the partner; the stranger's share is still pending" in text
    assert "orphan done" in text and "delete done" in text and "followed its deleted source" in text


def test_demo_command_exits_zero_and_prints_its_timeline_without_the_functions_json_logs():
    result = CliRunner().invoke(cli, ["demo"])

    assert result.exit_code == 0, result.output
    assert "end state is right" in result.output
    assert '"message":"decision"' not in result.output  # each handler sets the log level from the environment


def test_demo_check_notices_what_is_missing_or_wrong():
    with Emulator(regions=REGIONS) as cloud:
        estate = seed_demo_estate(cloud)
        missing = end_state.missing(cloud, estate)
        assert any("web-base has no finished, shared replica in cn-east-3" in m for m in missing)
        (refused, *_) = estate.refused
        cloud.region("cn-east-3").add_image(name="x", description=f"imsync:source=cn-north-4/{refused}")
        assert any("was copied although IMS cannot copy it" in w for w in end_state.wrong(cloud, estate))


def test_demo_check_notices_shares_the_partner_has_not_accepted():
    with Emulator(regions=REGIONS) as cloud:
        estate = seed_demo_estate(cloud)
        seed_partner(cloud, estate)
        web_base = next(i for i, name in estate.names.items() if name == "web-base")
        partner = cloud.recipient.projects[HOME]
        cloud.region(HOME).image(web_base).members[partner] = "pending"
        cloud.region(HOME).image(estate.untrusted).members[partner] = "accepted"

        problems = end_state.unaccepted(cloud, estate)

        assert "web-base in cn-north-4 is not accepted by the partner (pending)" in problems
        assert "the stranger's share did not stay pending" in problems
