"""Fast service tests: the Replicator over the in-memory ImageStore (tests/fakes.py), no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from imsync import bootstrap
from imsync.config import Settings
from imsync.domain.model import Image
from imsync.retry import Deadline
from imsync.service import Replicator
from imsync.service.claims import RecentCopies, RecentNotices
from tests.fakes import FakeCloud

NORTH, EAST = "cn-north-4", "cn-east-3"
COPY_TIME = 3600.0


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is its own process as far as imsync knows: forget copies "this process" started."""
    monkeypatch.setattr(bootstrap, "claims", RecentCopies())
    monkeypatch.setattr(bootstrap, "told", RecentNotices())


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


def settings(cloud: FakeCloud, **changes: object) -> Settings:
    """A deployment in cn-north-4 that copies to cn-east-3 and shares there with the partner's project."""
    base = Settings(
        home_region=NORTH,
        source_regions=(NORTH,),
        allowed_regions=frozenset({EAST}),
        agency="imsync-copy",
        share_targets={"partner": {EAST: (cloud.other_project(EAST),)}},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def replicator(cloud: FakeCloud, seconds_left: Callable[[], float] | None = None, **changes: object) -> Replicator:
    """A Replicator on the fake; its waits for member jobs are the fake cloud's time passing."""
    deadline = Deadline(None if seconds_left is None else (lambda: seconds_left() * 1000.0))
    return bootstrap.wire_replicator(settings(cloud, **changes), cloud.store, deadline=deadline, sleep=cloud.advance)


def retag(cloud: FakeCloud, image: Image, **tags: str) -> None:
    """Someone changes the image's tags in the console."""
    current = cloud.images[image.region][image.id]
    cloud.images[image.region][image.id] = replace(current, tags={**current.tags, **tags})


def replica_of(cloud: FakeCloud, source: Image) -> Image:
    """The one replica of `source` in cn-east-3, as the cloud holds it."""
    (replica,) = [i for i in cloud.images.get(EAST, {}).values() if i.lineage and i.lineage.source_id == source.id]
    return replica


def writes(cloud: FakeCloud, since: int = 0) -> list[str]:
    return [c for c in cloud.calls[since:] if c in ("copy", "add_tags", "delete_tags", "add_members")]
