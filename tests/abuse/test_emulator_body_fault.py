"""The emulator's `body` fault: the effect happens, then the answer is whatever raw text the rule says."""

import requests

from tests.abuse.conftest import HOME


def test_the_emulator_can_answer_a_raw_body_after_the_effect(cloud, deployment):
    cloud.faults.add(method="GET", path=r"/v2/cloudimages", body="{not json", count=1)
    image = cloud.region(HOME).add_image(name="x")

    answer = requests.get(f"{cloud.region(HOME).endpoint}/v2/cloudimages", timeout=5)  # unsigned: still the fault

    assert answer.status_code == 200 and answer.text == "{not json"
    assert cloud.region(HOME).image(image.id) is not None
