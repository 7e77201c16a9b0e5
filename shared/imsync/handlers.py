"""The four functions' bodies; functions/<name>/handler.py are the deployable doorways to these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imsync.entry import handle
from imsync.events import accept_trigger, completion_trigger, image_trigger, sweep_trigger

if TYPE_CHECKING:
    from imsync.accept import Acceptor


def replicate_on_create(event: object, context: object = None) -> dict[str, Any]:
    """An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""
    return handle("replicate_on_create", event, context, image_trigger, lambda imsync, t: imsync.replicate(t))


def scheduled_dr_copy(event: object, context: object = None) -> dict[str, Any]:
    """The scheduled DR run: every opted-in image of the source regions gets its missing replicas."""
    return handle("scheduled_dr_copy", event, context, sweep_trigger, lambda imsync, t: imsync.sweep(t))


def share_on_complete(event: object, context: object = None) -> dict[str, Any]:
    """Copies that finished get their lineage tags and are shared with the configured accounts."""
    return handle("share_on_complete", event, context, completion_trigger, lambda imsync, t: imsync.complete(t))


def accept_shares(event: object, context: object = None) -> dict[str, Any]:
    """In a recipient account: accept the images that trusted owners shared with it."""
    return handle("accept_shares", event, context, accept_trigger, lambda acceptor, t: acceptor.accept(t), _acceptor)


def _acceptor(context: object) -> Acceptor:
    from imsync import bootstrap

    return bootstrap.acceptor(context)
