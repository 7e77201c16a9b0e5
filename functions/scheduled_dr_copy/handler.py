"""The scheduled DR run: every opted-in image gets its missing replicas."""

from imsync.handlers import scheduled_dr_copy


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: see CONTRACT.md section 6 for the events it accepts."""
    return scheduled_dr_copy(event, context)
