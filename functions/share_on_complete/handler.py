"""Copies that finished get their lineage tags and are shared with the configured accounts."""

from imsync.entry import handle
from imsync.events import completion_trigger


def handler(event, context):
    """FunctionGraph / Lambda entry point (TIMER poll, CTS record of a replica, or a completion event)."""
    return handle("share_on_complete", event, context, completion_trigger, lambda imsync, t: imsync.complete(t))
