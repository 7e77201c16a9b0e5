"""Copies that finished get their lineage tags and are shared with the configured accounts."""

from imsync.handlers import share_on_complete


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: docs/events.md lists the events it accepts."""
    return share_on_complete(event, context)
