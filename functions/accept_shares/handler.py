"""In a recipient account: accept the images that trusted owners shared with it (IMSYNC_TRUSTED_OWNERS)."""

from imsync.bootstrap import acceptor
from imsync.domain.commands import AcceptTrigger
from imsync.entrypoint import entrypoint
from imsync.platform_events import accept_trigger


@entrypoint("accept_shares", parse=accept_trigger)
def handler(trigger: AcceptTrigger, context: object):
    """FunctionGraph / AWS Lambda entry point: a TIMER or scheduled event, or a direct invocation."""
    return acceptor(context).accept(trigger)
