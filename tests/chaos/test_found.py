"""Every violation the chaos runs found, replayed as a plain test (seed and step in each docstring)."""

from imsync.handlers import scheduled_dr_copy, share_on_complete
from tests.chaos.conftest import HOME
from tests.helpers.events import load_event


def test_a_source_with_ten_tags_is_shared_without_an_error_every_run(cloud, deployment):
    """Seeds 2, 3, 4 at 300 steps: the imsync-shared fingerprint tag does not fit on a source that already
    has IMS's 10 tags; every run shared the image, then reported 'tagging failed (IMG.0116)' forever."""
    user_tags = {f"user-{i}": f"v{i}" for i in range(8)}
    image = cloud.region(HOME).add_image(
        name="full", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner", **user_tags}
    )
    scheduled_dr_copy(load_event("timer"))
    cloud.run_until_idle()

    first = share_on_complete(load_event("timer"))
    again = share_on_complete(load_event("timer"))

    for answer in (first, again):
        assert answer["ok"], answer
    assert set(cloud.region(HOME).image(image.id).members) == {cloud.recipient.projects[HOME]}
    assert len(cloud.region(HOME).image(image.id).tags) == 10
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert replica.status == "active" and set(replica.members) == {cloud.recipient.projects["cn-east-3"]}
