"""The scheduled DR run: every opted-in image gets its missing replicas."""

from imsync.entry import handle
from imsync.events import sweep_trigger


def handler(event, context):
    """FunctionGraph / Lambda entry point (TIMER, EventBridge schedule, Scheduler or direct events)."""
    return handle("scheduled_dr_copy", event, context, sweep_trigger, lambda imsync, t: imsync.sweep(t))
