"""How the emulator answers where IMS's own sources can be read more than one way.

Each field is one behaviour; its comment names the source of the default, or says "unknown" when no
source settles it. docs/emulator.md lists the same table. The suites run under every profile in
PROFILES, so imsync is right under each reading, not only under the one the emulator happens to pick.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

STRICT_TAGS = "strict"
RELAXED_TAGS = "relaxed"


@dataclass(frozen=True)
class Readings:
    """One reading of every behaviour the IMS sources leave open (the defaults are the documented ones)."""

    # [IMS API reference, "Querying images"]: an image you have shared with other tenants shows
    # __imagetype=shared to its owner too. "private" is the reading imsync was first written for.
    owner_shared_type: str = "shared"
    # [Terraform provider, images data source]: the API returns no marker. SDK 3.1.219's model has
    # page_info.next_marker (3.1.211's has not): True is that reading.
    page_info: bool = False
    # [IMS API reference]: limit "defaults to 500"; no maximum is documented. unknown: what a larger
    # limit gets; the emulator answers at most this many per page.
    page_cap: int = 500
    # unknown: whether a cross-region copy's replica is listed in the destination as soon as the copy
    # is accepted (0) or only this many seconds later.
    copy_visible_after: float = 0.0
    # [IMS API reference, "Adding image members"]: the answer is a job_id, the work is asynchronous.
    # unknown: how long it takes; the job runs this many seconds of the emulator's clock.
    member_job_seconds: float = 2.0
    # [IMS API reference, "Adding or deleting image tags in batches"]: 10 tags, key <= 36, value <= 43,
    # letters, digits, _ - . ("strict"). [IMS "tag format" page]: 20 tags, key <= 128, value <= 255,
    # also space and : + @ ("relaxed").
    tag_rules: str = STRICT_TAGS
    # [IMS API reference, enterprise_project_id]: images of enterprise projects are listed when asked
    # for (all_granted_eps: every project the user may see). unknown: whether a listing without the
    # parameter shows them; True: only the default project's images.
    eps_need_parameter: bool = True
    # [IMS user guide, current]: the copy agency needs the replication rights in the destination region
    # ("destination"). [the older guide page imsync started from]: in source and destination ("both").
    agency_regions: str = "destination"
    # unknown: [IMS API reference, "Deleting an image"] names no precondition about members, and no source says
    # whether IMS deletes an image that is still shared ("allowed": recipients lose it) or refuses ("refused").
    # imsync removes the members first, so it is right under both.
    delete_shared: str = "allowed"


#: The readings the end-to-end and chaos suites run under, by name.
PROFILES: dict[str, Readings] = {
    "documented": Readings(),
    "sdk-page-info": Readings(page_info=True, owner_shared_type="private", eps_need_parameter=False),
    "late-copy": Readings(
        copy_visible_after=30.0, member_job_seconds=20.0, agency_regions="both", delete_shared="refused"
    ),
    "relaxed-tags": Readings(tag_rules=RELAXED_TAGS, page_cap=1000),
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
