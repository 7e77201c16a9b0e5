"""The three functions' bodies; functions/<name>/handler.py are the deployable doorways to these."""

from __future__ import annotations

from typing import Any

from imsync.entry import handle
from imsync.events import completion_trigger, image_trigger, sweep_trigger


def replicate_on_create(event: object, context: object = None) -> dict[str, Any]:
    """An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""
    return handle("replicate_on_create", event, context, image_trigger, lambda imsync, t: imsync.replicate(t))


def scheduled_dr_copy(event: object, context: object = None) -> dict[str, Any]:
    """The scheduled DR run: every opted-in image of the source regions gets its missing replicas."""
    return handle("scheduled_dr_copy", event, context, sweep_trigger, lambda imsync, t: imsync.sweep(t))


def share_on_complete(event: object, context: object = None) -> dict[str, Any]:
    """Copies that finished get their lineage tags and are shared with the configured accounts."""
    return handle("share_on_complete", event, context, completion_trigger, lambda imsync, t: imsync.complete(t))
