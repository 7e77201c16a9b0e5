"""Copies that finished get their lineage tags and are shared; the poll also starts event-mode copies."""

from imsync.bootstrap import replicator
from imsync.domain.commands import CompletionTrigger
from imsync.entrypoint import entrypoint
from imsync.platform_events import completion_trigger


@entrypoint("share_on_complete", parse=completion_trigger)
def handler(trigger: CompletionTrigger, context: object):
    """FunctionGraph / AWS Lambda entry point: a TIMER (the poll), a CTS record or a completion event."""
    return replicator(context).complete(trigger)
