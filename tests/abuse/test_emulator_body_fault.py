"""The emulator's `body` fault: the effect happens, then the answer is whatever raw text the rule says."""

import requests

from tests.abuse.conftest import HOME
from tests.helpers.events import load_event


def test_the_emulator_can_answer_a_raw_body_after_the_effect(cloud, deployment, call):
    source = cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
    cloud.faults.add(method="GET", path=r"/v2/cloudimages", body="{not json", count=1)
    answer = requests.get(f"{cloud.region(HOME).endpoint}/v2/cloudimages", timeout=5)  # unsigned: still the fault
    assert answer.status_code == 200 and answer.text == "{not json"

    # A signed copy request answered with raw text: the caller cannot read the answer, yet IMS made the copy.
    cloud.faults.add(method="POST", path=r"cross_region_copy", body="<html>502</html>", count=1)
    call("scheduled_dr_copy", load_event("timer"))
    cloud.run_until_idle()

    copies = [r for r in cloud.requests if r.method == "POST" and "cross_region_copy" in r.path]
    assert copies and copies[0].status == 200
    assert [r.status for r in cloud.region("cn-east-3").replicas_of(source.id)] == ["active"]
