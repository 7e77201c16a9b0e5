"""An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""

from imsync.entry import handle
from imsync.events import image_trigger


def handler(event, context):
    """FunctionGraph / Lambda entry point (CTS, EventGrid, EventBridge or direct events)."""
    return handle("replicate_on_create", event, context, image_trigger, lambda imsync, t: imsync.replicate(t))
