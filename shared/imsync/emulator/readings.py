"""How the emulator answers where IMS's own sources can be read more than one way.

Each field is one behaviour; its comment names the source of the default, or says "unknown" when no
source settles it. docs/emulator.md lists the same table. The suites run under every profile in
PROFILES, so imsync is right under each reading, not only under the one the emulator happens to pick.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

STRICT_TAGS = "strict"
RELAXED_TAGS = "relaxed"
WHOLE_IMAGE_REGIONS = ("cn-north-1", "cn-north-4", "cn-east-2", "cn-east-3", "cn-south-1")


@dataclass(frozen=True)
class Readings:
    """One reading of every behaviour the IMS sources leave open (the defaults are the documented ones)."""

    # [IMS API reference, "Querying images"]: an image you have shared with other tenants shows
    # __imagetype=shared to its owner too. "private" is the reading imsync was first written for.
    owner_shared_type: str = "shared"
    # [Terraform provider, images data source]: the API returns no marker. ListImagesResponse has
    # page_info.next_marker from SDK 3.1.216 on (3.1.211-3.1.215 have not): True is that reading.
    page_info: bool = False
    # [SDK ListImageMembersResponse, 3.1.211-3.1.219]: member listings carry page_info.next_marker in every
    # version (base64, ims_03_0661). False: they carry none (imsync then pages on until a page is empty).
    member_page_info: bool = True
    # [IMS API reference]: limit "defaults to 500"; no maximum is documented. unknown: what a larger
    # limit gets; the emulator answers at most this many per page.
    page_cap: int = 500
    # unknown: whether a cross-region copy's replica is listed in the destination as soon as the copy
    # is accepted (0) or only this many seconds later.
    copy_visible_after: float = 0.0
    # [IMS API reference, "Adding image members"]: the answer is a job_id, the work is asynchronous.
    # unknown: how long it takes; the job runs this many seconds of the emulator's clock.
    member_job_seconds: float = 2.0
    # [IMS API reference (international), ims_03_0902, 2025]: 10 tags, key <= 36 of letters, digits, _ -,
    # value <= 43 also ".", Chinese in both ("strict"). [IMS tag-format page, newer Chinese edition]: 20 tags,
    # key <= 128 also . : + @ and space, value <= 255 also "/" ("relaxed").
    tag_rules: str = STRICT_TAGS
    # [Terraform provider, image_copy]: "if the enterprise_project_id is not filled, the list API will query
    # images under all enterprise projects" (False). [IMS API reference]: all_granted_eps lists them all; the
    # other reading (True): a listing without the parameter shows only the default project's images.
    eps_need_parameter: bool = False
    # [IMS user guide, current]: the copy agency needs the replication rights in the destination region
    # ("destination"). [the older guide page imsync started from]: in source and destination ("both").
    agency_regions: str = "destination"
    # [SDK PublishMessageRequestBody docstring, `message`]: an SMS is limited to 490 characters ("beyond it,
    # carriers may block it") and must not contain "[]" or "【】". unknown: whether SMN refuses such a
    # message_structure `sms` entry (True, the strict reading) or sends it and the carrier drops it (False).
    smn_sms_limits: bool = True
    # [SDK ListImagesRequest.member_status docstring; IMS API reference ims_03_0702]: member_status needs
    # visibility=shared too. unknown: what IMS does without it. True: refuse (400); False: filter anyway.
    member_status_needs_visibility: bool = True
    # [IMS guide, international cross-region copy page, 2026-01-19]: the API "will no longer be used to
    # replicate Windows images" (True: refused, 400). unknown: its scope; False: Windows images are copied.
    refuse_windows_copies: bool = True
    # [SDK JobEntities.results / sub_jobs_result]: a job carries per-image (and per-project) results. unknown:
    # whether a member job can end SUCCESS with failed items. True: a member job of more than one
    # (image, project) pair ends SUCCESS with its last pair failed (that project is not added to that image);
    # each pair fails once at most.
    member_job_partial: bool = False
    # unknown: [IMS API reference, "Adding image members in batches" (ims_03_0624)] says nothing of a project that
    # is already a member of the image. "ignored": that pair succeeds and the member stays as it is; "fails": that
    # pair fails (the member stays as it is), and a job whose every pair fails ends FAIL.
    member_add_existing: str = "ignored"
    # unknown: whether a copy that is still queued or saving can be tagged. False: tag writes to it are refused.
    tag_saving_copy: bool = True
    # [IMS user guide, "Replicating images across regions"]: whole-ECS images are copied only among these
    # regions. unknown: whether the list is complete and current; another tuple is another reading.
    whole_image_copy_regions: tuple[str, ...] = WHOLE_IMAGE_REGIONS
    # unknown: how a frozen image appears in a listing (no documented field marks it). "status": status
    # "frozen" and a raw __frozen "true"; "flag": status "active" and __frozen "true"; "hidden": nothing
    # marks it (IMS refuses its copy, IMG.0168, and its share).
    frozen_shape: str = "status"
    # [SDK ImageInfo]: an ISO image has virtual_env_type "IsoImage" (and disk_format "iso"): "both".
    # unknown: whether every ISO image says so; "disk_format": only disk_format "iso" marks it.
    iso_shape: str = "both"
    # unknown: [IMS API reference, "Deleting an image"] names no precondition about members, and no source says
    # whether IMS deletes an image that is still shared ("allowed": recipients lose it) or refuses ("refused").
    # imsync removes the members first, so it is right under both.
    delete_shared: str = "allowed"


#: The readings the end-to-end and chaos suites run under, by name.
PROFILES: dict[str, Readings] = {
    "documented": Readings(),
    "sdk-page-info": Readings(page_info=True, owner_shared_type="private", eps_need_parameter=True),
    "late-copy": Readings(
        copy_visible_after=30.0, member_job_seconds=20.0, agency_regions="both", delete_shared="refused"
    ),
    "relaxed-tags": Readings(tag_rules=RELAXED_TAGS, page_cap=1000),
    # Every reading that is not the default, at once (page_info stays off: pages capped at 100 without it are
    # the harder case, only an empty page ends a listing; sdk-page-info covers page_info). frozen_shape is
    # "flag": with "hidden" nothing tells a frozen source from an active one, so sharing it fails (an error)
    # on every run until it thaws, which the chaos suite's settled estate does not allow.
    "pessimistic": Readings(
        owner_shared_type="private",
        page_cap=100,
        copy_visible_after=30.0,
        member_job_seconds=20.0,
        tag_rules=RELAXED_TAGS,
        eps_need_parameter=True,
        agency_regions="both",
        member_status_needs_visibility=False,
        member_page_info=False,
        refuse_windows_copies=False,
        member_job_partial=True,
        member_add_existing="fails",
        tag_saving_copy=False,
        whole_image_copy_regions=("cn-north-4", "cn-east-3", "cn-south-1"),
        frozen_shape="flag",  # "hidden" makes a frozen source's share fail each run until it thaws (docs)
        iso_shape="disk_format",
        smn_sms_limits=False,
        delete_shared="refused",
    ),
}


def profile(name: str) -> Readings:
    """The readings of a named profile; ValueError naming the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown emulator profile {name!r} (known: {', '.join(PROFILES)})") from None


def with_changes(readings: Readings, **changes: object) -> Readings:
    """A copy of `readings` with some behaviours changed (tests that need one reading on purpose)."""
    return replace(readings, **changes)  # type: ignore[arg-type]
