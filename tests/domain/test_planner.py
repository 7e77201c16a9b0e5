from imsync.domain.model import RELAXED_TAGS, Image
from imsync.domain.planner import (
    COPY,
    DEFER,
    FAIL,
    FINALIZE,
    IN_SYNC,
    MAX_COPY_ATTEMPTS,
    REFUSE,
    WAIT,
    plan_image,
    share_fingerprint,
)
from imsync.domain.policy import Policy
from imsync.domain.rules import CopyRules

SOURCE = Image(id="src", region="cn-north-4", name="golden", status="active", tags={"imsync-regions": "x", "team": "a"})
MARK = "imsync:source=cn-north-4/src"
PROJECTS = {"cn-east-3": ("p" * 32,), "cn-north-4": ("q" * 32,)}


def replica(status="active", rid="rep", tags=None, created="2026-01-01"):
    return Image(
        id=rid, region="cn-east-3", name="copy", status=status, description=MARK, tags=tags or {}, created_at=created
    )


TO_EAST = Policy(("cn-east-3",))


def plan(copies, policy=TO_EAST, source=SOURCE, **kw):
    return plan_image(source, policy, copies, CopyRules(), lambda r: PROJECTS.get(r, ()), **kw)


def kinds(actions):
    return [(a.kind, a.region) for a in actions]


def test_missing_replica_is_copied():
    assert kinds(plan({})) == [(COPY, "cn-east-3")]


def test_only_imsyncs_replicas_still_being_made_count_as_copies_in_flight():
    assert replica("saving").copy_in_flight and replica("queued").copy_in_flight
    assert not replica("active").copy_in_flight
    assert not Image(id="x", region="cn-east-3", name="theirs", status="saving").copy_in_flight  # no lineage marker


def test_copy_in_progress_is_waited_for():
    assert kinds(plan({"cn-east-3": [replica("saving")]})) == [(WAIT, "cn-east-3")]


def test_active_replica_gets_lineage_and_copied_tags():
    (action,) = plan({"cn-east-3": [replica()]})
    assert action.kind == FINALIZE
    assert action.tags == {"imsync-source": "src", "imsync-source-region": "cn-north-4", "team": "a"}
    assert action.projects == ()


def test_finalized_replica_is_in_sync():
    done = {"imsync-source": "src", "imsync-source-region": "cn-north-4", "team": "a"}
    assert kinds(plan({"cn-east-3": [replica(tags=done)]})) == [(IN_SYNC, "cn-east-3")]


def test_share_fingerprint_change_means_share_again():
    tags = {"imsync-source": "src", "imsync-source-region": "cn-north-4", "team": "a", "imsync-shared": "old"}
    actions = plan({"cn-east-3": [replica(tags=tags)]}, policy=Policy(("cn-east-3",), ("qa",)))
    replica_action = next(a for a in actions if a.replica is not None)
    assert replica_action.projects == PROJECTS["cn-east-3"]
    assert replica_action.tags == {"imsync-shared": share_fingerprint(PROJECTS["cn-east-3"])}


def test_source_is_shared_in_its_own_region():
    actions = plan({"cn-east-3": [replica("saving")]}, policy=Policy(("cn-east-3",), ("qa",)))
    own = next(a for a in actions if a.replica is None)
    assert own.kind == FINALIZE and own.region == "cn-north-4" and own.projects == PROJECTS["cn-north-4"]


def test_failed_copies_are_retried_then_reported():
    killed = [replica("killed", rid=f"k{i}") for i in range(MAX_COPY_ATTEMPTS - 1)]
    (retry,) = plan({"cn-east-3": killed})
    assert retry.kind == COPY and f"attempt {MAX_COPY_ATTEMPTS}" in retry.reason
    killed.append(replica("killed", rid="last"))
    (stop,) = plan({"cn-east-3": killed})
    assert stop.kind == FAIL and "stopped retrying" in stop.reason


def test_source_still_being_created_is_deferred():
    source = Image(id="src", region="cn-north-4", name="g", status="saving", tags={"imsync-regions": "x"})
    assert kinds(plan({}, source=source)) == [(DEFER, "cn-east-3")]


def test_no_copy_reason_defers_instead_of_copying():
    (action,) = plan({}, no_copy_reason="schedule only")
    assert action.kind == DEFER and action.reason == "schedule only"


def test_refused_image_is_never_copied():
    source = Image(id="src", region="cn-north-4", name="g", status="active", iso=True)
    assert kinds(plan({}, source=source)) == [(REFUSE, "cn-east-3")]


def test_duplicates_are_reported_and_one_replica_is_kept():
    a, b = replica(rid="a", created="2026-01-01"), replica(rid="b", created="2026-01-02")
    actions = plan({"cn-east-3": [b, a]})
    assert any(x.kind == FAIL and "more than one replica (b)" in x.reason for x in actions)
    assert next(x for x in actions if x.kind == FINALIZE).replica == a


def test_replica_tags_respect_the_ten_tag_limit():
    many = {f"k{i}": "v" for i in range(12)} | {"imsync-regions": "x"}
    source = Image(id="src", region="cn-north-4", name="g", status="active", tags=many)
    (action,) = plan({"cn-east-3": [replica()]}, source=source, policy=Policy(("cn-east-3",), ("qa",)))[1:]
    assert len(action.tags) == 10
    assert not any(k == "imsync-regions" for k in action.tags)


def test_source_tags_already_on_the_replica_keep_their_slot():
    # Found in review: a tag dropped from the sorted cut but present on the replica made an 11th tag.
    user = {"a0": "x", **{k: "v" for k in "abcdefg"}}
    source = Image(id="src", region="cn-north-4", name="g", status="active", tags={**user, "imsync-regions": "x"})
    lineage = {"imsync-source": "src", "imsync-source-region": "cn-north-4"}
    fingerprint = share_fingerprint(PROJECTS["cn-east-3"])
    on_replica = {**lineage, "imsync-shared": fingerprint, **{k: "v" for k in "abcdefg"}}
    actions = plan({"cn-east-3": [replica(tags=on_replica)]}, source=source, policy=Policy(("cn-east-3",), ("qa",)))
    (action,) = [a for a in actions if a.replica is not None]
    assert action.kind == IN_SYNC
    assert len(on_replica) == 10


def test_a_replica_takes_over_only_the_tags_the_rules_in_effect_allow():
    tags = {"imsync-regions": "x", "团队": "网站", "team.web": "v2", "os": "ubuntu/22.04", "env": "prod"}
    source = Image(id="src", region="cn-north-4", name="g", status="active", tags=tags)

    def copied(rules):
        actions = plan_image(source, TO_EAST, {"cn-east-3": [replica()]}, rules, lambda r: ())
        (action,) = [a for a in actions if a.kind == FINALIZE]
        return {k for k in action.tags if not k.startswith("imsync-")}

    assert copied(CopyRules()) == {"团队", "env"}  # strict: no "." in keys, no "/" in values; Chinese is kept
    assert copied(CopyRules(tags=RELAXED_TAGS)) == {"团队", "team.web", "os", "env"}


def test_relaxed_rules_allow_twenty_tags_on_a_replica():
    many = {f"k{i}": "v" for i in range(25)} | {"imsync-regions": "x"}
    source = Image(id="src", region="cn-north-4", name="g", status="active", tags=many)
    actions = plan_image(source, TO_EAST, {"cn-east-3": [replica()]}, CopyRules(tags=RELAXED_TAGS), lambda r: ())
    (action,) = [a for a in actions if a.kind == FINALIZE]
    assert len(action.tags) == 20
