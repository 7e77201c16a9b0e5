"""The scheduled DR run: every opted-in image gets its missing replicas."""

from imsync.bootstrap import replicator
from imsync.domain.commands import SweepTrigger
from imsync.entrypoint import entrypoint
from imsync.platform_events import sweep_trigger


@entrypoint("scheduled_dr_copy", parse=sweep_trigger)
def handler(trigger: SweepTrigger, context: object):
    """FunctionGraph / AWS Lambda entry point: a TIMER or scheduled event, or `{}` (docs/events.md)."""
    return replicator(context).sweep(trigger)
