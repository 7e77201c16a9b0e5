"""The scheduled DR run: every opted-in image gets its missing replicas."""

from imsync.handlers import scheduled_dr_copy


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: docs/events.md lists the events it accepts."""
    return scheduled_dr_copy(event, context)
