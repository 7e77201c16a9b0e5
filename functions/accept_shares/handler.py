"""In a recipient account: accept the images that trusted owners shared with it (IMSYNC_TRUSTED_OWNERS)."""

from imsync.handlers import accept_shares


def handler(event, context):
    """FunctionGraph / AWS Lambda entry point: a TIMER or scheduled event, or a direct invocation (docs/events.md)."""
    return accept_shares(event, context)
