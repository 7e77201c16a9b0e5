"""Copies that finished get their lineage tags and are shared with the configured accounts."""

from imsync.handlers import share_on_complete


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: see CONTRACT.md section 6 for the events it accepts."""
    return share_on_complete(event, context)
