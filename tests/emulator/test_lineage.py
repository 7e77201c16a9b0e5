"""The emulator's notion of a replica (ImageRecord.source_id) is the lineage imsync reads over IMS.

The emulator used to parse the `imsync:source=<region>/<id>` marker itself, accepting only hex IDs,
while imsync accepted any ID: the test oracles (replicas_of, the chaos harness) then disagreed with
imsync on such images. Both now believe the marker alone (the tags are a claim anyone may write).
"""

from __future__ import annotations

import pytest

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
from imsync.emulator import Emulator
from imsync.retry import Retrier

NORTH = "cn-north-4"
SRC = "0b4f5e3a-1c2d-4e5f-8a9b-000000000001"
OTHER = "0b4f5e3a-1c2d-4e5f-8a9b-000000000002"
TAGGED = {"imsync-source": SRC, "imsync-source-region": "cn-east-3"}

# Only the marker imsync writes at copy time is evidence; anyone who may tag can write the tags (security.md).
CASES = [
    ("tag only: a claim, not evidence", TAGGED, "", None),
    ("marker only", {}, f"copy imsync:source=cn-east-3/{SRC}", SRC),
    ("both agreeing", TAGGED, f"imsync:source=cn-east-3/{SRC}", SRC),
    ("both disagreeing: the marker wins", TAGGED, f"imsync:source=cn-east-3/{OTHER}", OTHER),
    ("empty tag: the marker counts", {"imsync-source": ""}, f"imsync:source=cn-east-3/{OTHER}", OTHER),
    ("short non-hex ID in the marker", {}, "imsync:source=cn-east-3/img-7", "img-7"),
    ("marker ID ends at an odd character", {}, f"imsync:source=cn-east-3/{SRC}_old", SRC),
    ("odd ID in the tag", {"imsync-source": "abc"}, "", None),
    ("upper-case region: no marker", {}, f"imsync:source=CN-East-3/{SRC}", None),
    ("neither", {"imsync-regions": "cn-east-3"}, "golden image", None),
]


@pytest.mark.parametrize(("tags", "description", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_emulator_and_imsync_read_the_same_lineage(cloud: Emulator, tags, description, expected) -> None:
    rec = cloud.region(NORTH).add_image(name="maybe-a-replica", tags=tags, description=description)
    store = HuaweiImageStore(
        NORTH, ImsClients(Credentials(cloud.owner.ak, cloud.owner.sk, None, "owner"), 5.0), Retrier()
    )
    seen = store.get_image(rec.id)
    assert seen is not None
    assert (seen.lineage.source_id if seen.lineage else None) == expected
    assert rec.source_id() == expected
