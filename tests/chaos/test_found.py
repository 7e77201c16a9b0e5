"""Every violation the chaos runs found, replayed as a plain test (seed and step in each docstring)."""

from tests.chaos.conftest import HOME
from tests.helpers.events import load_event
from tests.helpers.handlers import scheduled_dr_copy, share_on_complete


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


def test_a_run_that_lists_the_destination_while_another_copy_request_is_in_flight_does_not_copy_again(
    cloud, deployment, monkeypatch
):
    """Found by reading the race the chaos threads exercise: the in-process claim table (bootstrap.claims)
    compared the listing time with the time a copy was *claimed*; a thread that listed the destination after the
    claim but before IMS created the replica (the copy request still on the wire) saw nothing and copied a second
    time."""
    import threading

    from imsync.adapters import huawei_ims
    from tests.helpers.handlers import replicate_on_create

    image = cloud.region(HOME).add_image(name="racy", tags={"imsync-regions": "cn-east-3"})
    original = huawei_ims.HuaweiImageStore.start_copy
    sending, arrived = threading.Event(), threading.Event()

    def held_start_copy(self, *args, **kwargs):
        if not sending.is_set():  # the first request is held on the wire until the second run is over
            sending.set()
            arrived.wait(timeout=30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(huawei_ims.HuaweiImageStore, "start_copy", held_start_copy)
    event = load_event("cts_create_image", image_id=image.id)
    first = threading.Thread(target=replicate_on_create, args=(event,))
    first.start()
    assert sending.wait(timeout=30)  # the first run has claimed the copy and is sending it
    replicate_on_create(event)  # lists the destination after the claim: IMS shows no replica yet
    arrived.set()
    first.join()

    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1
