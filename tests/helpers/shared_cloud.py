"""One emulator for a whole test module whose tests only read it, and the check that they do.

A module opts in by overriding the `cloud` fixture with a module-scoped one and wrapping each test in
`read_only(cloud)` (an autouse fixture). After each test the guard fails it if it sent the emulator a
request that changes something, or if the emulator's state (images, members, tags, agencies, jobs,
accounts) differs from before the test: such a test needs an emulator of its own, the per-test `cloud`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from imsync.emulator import Emulator

WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# POSTs that only read: IMS's search of images by tags (resource_instances/action, action "filter" or "count").
READING_POSTS = ("/resource_instances/action",)


def state(cloud: Emulator) -> tuple[object, ...]:
    """Everything a test could change through the emulator's HTTP front or its Python API, comparably."""
    images = sorted(repr(image) for region in cloud.regions for image in cloud.region(region).images())
    agencies = sorted(repr(agency) for account in cloud.accounts.values() for agency in cloud.agencies(account))
    accounts = sorted((name, repr(account)) for name, account in cloud.accounts.items())
    return tuple(images), tuple(agencies), tuple(accounts), tuple(sorted(repr(job) for job in cloud.jobs()))


@contextmanager
def read_only(cloud: Emulator) -> Iterator[Emulator]:
    """Run the body against `cloud`, then fail if it wrote to it."""
    before, seen = state(cloud), len(cloud.requests)
    yield cloud
    sent = cloud.requests[seen:] if len(cloud.requests) >= seen else cloud.requests  # a test may reset the counters
    writes = [
        f"{r.method} {r.path}" for r in sent if r.method in WRITES and not r.path.split("?")[0].endswith(READING_POSTS)
    ]
    assert not writes, f"a test of a shared, read-only emulator wrote to it: {writes}; give it the per-test cloud"
    assert state(cloud) == before, "a test of a shared, read-only emulator changed it; give it the per-test cloud"
