"""CopyNote: the values imsync writes on a source for a copy IMS may not list yet, and nothing else."""

import pytest

from imsync.domain.model import CopyNote, Image, copy_note_marker, without_copy_notes, writable_tag

JOB = "8a12fc664fb4daa3014fb4e581380005"


@pytest.mark.parametrize(
    "note", [CopyNote(0x1C5A2B, owner="0a1b2c3d"), CopyNote(0xFFFFFFFF, job_id=JOB), CopyNote(1, job_id=JOB)]
)
def test_a_note_reads_back_and_fits_imss_strict_tag_rules(note):
    assert CopyNote.read(note.value) == note
    assert writable_tag("imsync-copy-ap-southeast-1", note.value)


def test_notes_of_older_imsync_are_still_read():
    assert CopyNote.read("lost-1c5a2b") == CopyNote(0x1C5A2B)
    assert CopyNote.read(JOB) == CopyNote(None, job_id=JOB)


@pytest.mark.parametrize(
    "value", ["", ".", "..", "lost-", "lost-xyz", "j1-" + "z" * 32, "j1-" + "a" * 31, "p1-", JOB + "0"]
)
def test_a_value_imsync_never_writes_is_no_note(value):
    assert CopyNote.read(value) is None


def test_description_markers_are_notes_and_come_out_cleanly():
    marker = copy_note_marker("cn-east-3", "p1c5a2b-0a1b2c3d")
    image = Image(
        "i", "cn-north-4", "n", "active", description=f"golden {marker} {copy_note_marker('cn-south-1', 'p1-ab12')}"
    )

    assert image.copy_claims == {"cn-east-3": "p1c5a2b-0a1b2c3d", "cn-south-1": "p1-ab12"}
    assert without_copy_notes(image.description, {"cn-east-3"}) == f"golden {copy_note_marker('cn-south-1', 'p1-ab12')}"
    assert without_copy_notes(image.description) == "golden"


def test_a_tag_note_wins_over_a_description_marker():
    image = Image(
        "i",
        "cn-north-4",
        "n",
        "active",
        tags={"imsync-copy-cn-east-3": "p2-ab12"},
        description="imsync:copy=cn-east-3/p1-ab12",
    )
    assert image.copy_claims == {"cn-east-3": "p2-ab12"}
