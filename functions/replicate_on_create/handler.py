"""An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""

from imsync.handlers import replicate_on_create


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: docs/events.md lists the events it accepts."""
    return replicate_on_create(event, context)
