"""The ImageStore port, stated once and checked on both backends: the in-memory fake and the SDK adapter.

Each test is one behaviour imsync relies on (shared/imsync/ports.py). The emulator is the reference: when the
fake fails here, the fake is wrong.
"""

from __future__ import annotations

import pytest

from imsync.domain.errors import CopyLimitReached, NotFound, Refused
from imsync.domain.model import IN_PROGRESS, Lineage
from tests.contract.conftest import EAST, NORTH

FINISHED = ("SUCCESS", "FAIL")
ENTERPRISE_PROJECT = "5f1e0d2c-0000-4000-8000-00000000e9e9"
COPY_TIME = 3600.0  # longer than any copy of a 40 GB image takes on either backend
MEMBER_JOB_TIME = 60.0


def test_the_store_names_the_accounts_project_in_its_region(backend):
    assert backend.store(NORTH).project_id == backend.own_project(NORTH)
    assert backend.store(EAST).project_id == backend.own_project(EAST)


def test_own_images_include_those_it_shared_and_not_others_images_shared_with_it(backend):
    plain = backend.add(NORTH, name="plain")
    shared = backend.add(NORTH, name="shared", members={backend.other_project(NORTH): "accepted"})
    theirs = backend.add(NORTH, name="theirs", other_account=True)
    backend.add(EAST, name="elsewhere")

    listed = backend.store(NORTH).list_own_images()

    assert sorted(i.id for i in listed) == sorted([plain, shared])
    assert all(i.owned for i in listed)
    # IMS shows the owner an image it has shared as "shared" (or, under the other reading, "private"): ownership,
    # not __imagetype, makes it the account's own
    assert {i.id: i.image_type for i in listed}[shared] == ("shared" if backend.owner_sees_shared else "private")
    other = backend.store(NORTH).get_image(theirs)
    assert other is not None and not other.owned


def test_own_images_of_every_enterprise_project_are_listed_and_read(backend):
    image_id = backend.add(NORTH, name="in-a-project", enterprise_project=ENTERPRISE_PROJECT)

    assert [i.id for i in backend.store(NORTH).list_own_images()] == [image_id]
    assert backend.store(NORTH).get_image(image_id) is not None


def test_every_page_of_a_large_estate_is_listed(backend):
    made = {backend.add(NORTH, name=f"img-{n}") for n in range(501)}

    listed = [i.id for i in backend.store(NORTH).list_own_images()]

    assert len(listed) == 501 and set(listed) == made


def test_a_listing_ends_only_on_an_empty_page_when_no_page_info_says_otherwise(backend):
    # 150 images, pages capped at 100 (emulator-capped): a short page is not the end (Terraform's images data
    # source pages until a page comes back empty).
    made = {backend.add(NORTH, name=f"img-{n}") for n in range(150)}

    listed = [i.id for i in backend.store(NORTH).list_own_images()]

    assert len(listed) == 150 and set(listed) == made


def test_every_member_is_listed(backend):
    projects = {f"{n:032x}" for n in range(1, 121)}  # near IMS's 128 per image, more than one short page
    image_id = backend.add(NORTH, members=dict.fromkeys(projects, "accepted"))

    assert backend.store(NORTH).list_members(image_id) == projects


def test_an_unknown_image_reads_as_none(backend):
    assert backend.store(NORTH).get_image("00000000-0000-4000-8000-00000000dead") is None


def test_get_image_reads_name_status_description_and_tags(backend):
    image_id = backend.add(NORTH, name="web", status="queued", description="hello", tags={"team": "web"})

    image = backend.store(NORTH).get_image(image_id)

    assert image is not None
    assert (image.id, image.region, image.name, image.status, image.description) == (
        image_id,
        NORTH,
        "web",
        "queued",
        "hello",
    )
    assert dict(image.tags) == {"team": "web"} and image.tags_exact and image.owned


def test_tags_are_added_read_exactly_and_deleted(backend):
    # A dotted key cannot be written under the strict rules, but an owner may have set one under the relaxed page.
    image_id = backend.add(NORTH, tags={"team.web": "v2"})
    store = backend.store(NORTH)

    store.add_tags(image_id, {"env": "prod"})

    assert store.get_tags(image_id) == {"team.web": "v2", "env": "prod"}
    # A listing shows "team.web.v2": the split is a guess, and the store says so.
    listed = store.get_image(image_id)
    assert listed is not None and not listed.tags_exact
    store.delete_tags(image_id, {"env": "prod"})
    assert store.get_tags(image_id) == {"team.web": "v2"}


def test_strict_tag_rules_refuse_a_dot_in_a_key_and_take_chinese_characters(backend):
    # IMS API reference (international), ims_03_0902: keys of letters, digits, _ and -; values also "."; Chinese
    # characters in both.
    image_id = backend.add(NORTH)
    store = backend.store(NORTH)

    with pytest.raises(Refused):
        store.add_tags(image_id, {"team.web": "v2"})
    store.add_tags(image_id, {"团队": "网站", "version": "1.2"})

    assert store.get_tags(image_id) == {"团队": "网站", "version": "1.2"}


def test_tags_overwrite_in_place(backend):
    image_id = backend.add(NORTH, tags={"team": "web"})
    store = backend.store(NORTH)

    store.add_tags(image_id, {"team": "api"})

    assert store.get_tags(image_id) == {"team": "api"}


def test_an_eleventh_tag_is_refused_and_nothing_is_written(backend):
    tags = {f"k{n}": "v" for n in range(10)}
    image_id = backend.add(NORTH, tags=tags)
    store = backend.store(NORTH)

    with pytest.raises(Refused):
        store.add_tags(image_id, {"one-more": "v"})

    assert store.get_tags(image_id) == tags


def test_a_description_is_replaced_and_read_back_and_a_forbidden_one_is_refused(backend):
    image_id = backend.add(NORTH, description="golden image")
    store = backend.store(NORTH)

    store.set_description(image_id, "golden image imsync:copy=cn-east-3/p1c5a2b-0a1b2c3d")
    with pytest.raises(Refused):
        store.set_description(image_id, "<b>bold</b>")
    with pytest.raises(Refused):
        store.set_description(image_id, "x" * 1025)

    image = store.get_image(image_id)
    assert image is not None and image.description == "golden image imsync:copy=cn-east-3/p1c5a2b-0a1b2c3d"
    assert image.copy_claims == {"cn-east-3": "p1c5a2b-0a1b2c3d"}


def test_another_accounts_image_cannot_be_tagged_or_copied(backend):
    theirs = backend.add(NORTH, other_account=True)
    store = backend.store(NORTH)

    with pytest.raises(Refused):
        store.add_tags(theirs, {"team": "web"})
    with pytest.raises(Refused):
        store.start_copy(theirs, EAST, "copy", "", "imsync-copy", None)
    with pytest.raises(Refused):
        store.set_description(theirs, "mine now")


def test_a_copy_is_listed_in_the_destination_while_it_runs_and_its_job_names_the_replica(backend):
    source = backend.add(NORTH, name="golden")
    marker = Lineage(NORTH, source).marker
    store = backend.store(NORTH)

    job_id = store.start_copy(source, EAST, "copy_golden", f"{marker} copied by imsync", "imsync-copy", None)

    (replica,) = backend.store(EAST).list_own_images()
    assert replica.lineage == Lineage(NORTH, source) and replica.status in IN_PROGRESS
    assert replica.name == "copy_golden"
    assert store.get_job(job_id).status not in FINISHED
    backend.advance(COPY_TIME)
    job = store.get_job(job_id)
    assert (job.status, job.image_id) == ("SUCCESS", replica.id)
    finished = backend.store(EAST).get_image(replica.id)
    assert finished is not None and finished.status == "active"


def test_an_unknown_job_is_not_found(backend):
    with pytest.raises(NotFound):
        backend.store(NORTH).get_job("0" * 32)


def test_at_most_five_copies_run_at_once(backend):
    sources = [backend.add(NORTH, name=f"golden-{n}") for n in range(6)]
    store = backend.store(NORTH)
    for source in sources[:5]:
        store.start_copy(source, EAST, "copy", "", "imsync-copy", None)

    with pytest.raises(CopyLimitReached):
        store.start_copy(sources[5], EAST, "copy", "", "imsync-copy", None)

    backend.advance(COPY_TIME)
    store.start_copy(sources[5], EAST, "copy", "", "imsync-copy", None)  # room again once they finish


def test_members_are_added_by_a_job_that_ends_later(backend):
    image_id = backend.add(NORTH)
    partner = backend.other_project(NORTH)
    store = backend.store(NORTH)

    job_id = store.add_members([image_id], [partner])

    assert store.get_job(job_id).status not in FINISHED
    assert store.list_members(image_id) == set()
    backend.advance(MEMBER_JOB_TIME)
    assert store.get_job(job_id).status == "SUCCESS"
    assert store.list_members(image_id) == {partner}


def test_a_failed_member_job_says_why_and_adds_nobody(backend):
    image_id = backend.add(NORTH)
    backend.fail_next_member_job("member quota of the project is used up")
    store = backend.store(NORTH)

    job_id = store.add_members([image_id], [backend.other_project(NORTH)])
    backend.advance(MEMBER_JOB_TIME)

    job = store.get_job(job_id)
    assert job.status == "FAIL" and job.error_code and "member quota" in job.fail_reason
    assert store.list_members(image_id) == set()


def test_a_member_job_that_succeeds_with_a_failed_item_names_that_image(backend):
    # SDK JobEntities: per-item results (entities.results, sub_jobs_result); a failed item is not shared.
    first, second = backend.add(NORTH, name="first"), backend.add(NORTH, name="second")
    partner = backend.other_project(NORTH)
    backend.partial_member_jobs()
    store = backend.store(NORTH)

    job_id = store.add_members([first, second], [partner])
    backend.advance(MEMBER_JOB_TIME)

    job = store.get_job(job_id)
    assert job.status == "SUCCESS"
    assert job.item_failure(first) is None and job.item_failure(second)
    assert store.list_members(first) == {partner} and store.list_members(second) == set()


def test_sharing_with_the_accounts_own_project_is_refused(backend):
    image_id = backend.add(NORTH)

    with pytest.raises(Refused):
        backend.store(NORTH).add_members([image_id], [backend.own_project(NORTH)])


def test_member_statuses_name_each_projects_answer(backend):
    partner, other = f"{1:032x}", f"{2:032x}"
    image_id = backend.add(NORTH, members={partner: "accepted", other: "pending"})

    assert backend.store(NORTH).member_statuses(image_id) == {partner: "accepted", other: "pending"}


def test_members_are_removed_by_a_job_and_the_image_is_then_deleted(backend):
    partner = f"{1:032x}"
    image_id = backend.add(NORTH, members={partner: "accepted"})
    store = backend.store(NORTH)

    job_id = store.remove_members([image_id], [partner])
    backend.advance(MEMBER_JOB_TIME)
    assert store.get_job(job_id).status == "SUCCESS" and store.list_members(image_id) == set()
    store.delete_image(image_id)

    assert store.get_image(image_id) is None
    assert image_id not in {i.id for i in store.list_own_images()}


def test_another_accounts_image_cannot_be_deleted(backend):
    image_id = backend.add(NORTH, other_account=True)

    with pytest.raises(Refused):
        backend.store(NORTH).delete_image(image_id)
    assert backend.store(NORTH).get_image(image_id) is not None


def test_deleting_an_image_that_is_gone_is_not_found(backend):
    with pytest.raises(NotFound):
        backend.store(NORTH).delete_image("00000000-0000-4000-8000-00000000dead")
