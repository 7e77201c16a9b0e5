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


def _held_copy_then_half_an_hour(cloud, monkeypatch, hold: float, wait_first: bool):
    """A copy request held past its client's timeout (IMS acts when the hold ends), then 31 emulated minutes,
    then a DR run: the replicas of the source in cn-east-3."""
    from tests.helpers.handlers import replicate_on_create

    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "0.2")
    image = cloud.region(HOME).add_image(name="held", tags={"imsync-regions": "cn-east-3"})
    held = cloud.faults.add(region=HOME, method="POST", path=r"/cross_region_copy$", slow=hold)

    replicate_on_create(load_event("cts_create_image", image_id=image.id))  # no answer: the copy is noted, waits
    if wait_first:
        assert cloud.wait_for_requests(timeout=5 * hold)  # what the chaos harness now does before moving the clock
    cloud.clock.advance(31 * 60)  # past IMSYNC_UNLISTED_WAIT_MINUTES: the note no longer holds a later run back
    scheduled_dr_copy(load_event("timer"))
    assert cloud.wait_for_requests(timeout=5 * hold) and held.fired == 1
    return cloud.region("cn-east-3").replicas_of(image.id)


def test_a_copy_request_held_while_half_an_hour_passes_is_how_the_soaks_made_two_replicas(
    cloud, deployment, monkeypatch
):
    """Seed 424242 at b7c9322, during convergence: two live replicas, both jobs begun in the same emulated second,
    and the first copy request asked was the last answered.
    A fault held the first request 0.45 s of real time past its client's timeout; meanwhile the harness moved the
    emulated clock 31 minutes, the next run found the copy note older than IMSYNC_UNLISTED_WAIT_MINUTES and
    asked again, and then the held request acted. IMS acting on a request half an hour after it arrived is not what
    a slow gateway stands for: this replays the harness's world, not a hole in imsync's."""
    assert len(_held_copy_then_half_an_hour(cloud, monkeypatch, hold=1.0, wait_first=False)) == 2


def test_the_harness_lets_a_held_request_act_before_it_moves_the_clock():
    """The same world in the chaos harness: its clock moves once the held request has acted (ChaosRun._advance)."""
    from tests.chaos.harness import DELAY, ChaosRun

    chaos = ChaosRun(5, 0, images=4)
    chaos.__enter__()
    try:
        cloud = chaos.cloud
        cloud.faults.clear()
        image = cloud.region(HOME).add_image(name="held", tags={"imsync-regions": "cn-east-3"})
        held = cloud.faults.add(region=HOME, method="POST", path=r"/cross_region_copy$", slow=DELAY)

        chaos._call("replicate_on_create", load_event("cts_create_image", image_id=image.id))
        chaos._advance(31 * 60)
        chaos._call("scheduled_dr_copy", load_event("timer"))

        assert cloud.wait_for_requests(timeout=5 * DELAY) and held.fired == 1
        assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1
    finally:
        chaos.__exit__(None, None, None)
