"""An IMS image was created or (re)tagged: copy it to the regions its imsync-regions tag names."""

from imsync.handlers import replicate_on_create


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: see CONTRACT.md section 6 for the events it accepts."""
    return replicate_on_create(event, context)
