"""An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""

from imsync.bootstrap import replicator
from imsync.domain.commands import ImageTrigger
from imsync.entrypoint import entrypoint
from imsync.platform_events import image_trigger


@entrypoint("replicate_on_create", parse=image_trigger)
def handler(trigger: ImageTrigger, context: object):
    """FunctionGraph / AWS Lambda entry point: a CTS record for an image (docs/events.md lists the shapes)."""
    return replicator(context).replicate(trigger)
