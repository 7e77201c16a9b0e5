"""The four handlers from functions/<name>/handler.py, loaded as the platforms do (by file, not package).

A run that fails raises RunFailed (so the platform counts a failure); these return its summary instead, so that
tests read every run's summary the same way. tests/e2e/test_failed_runs.py checks the raising itself.
"""

from imsync.domain.errors import RunFailed
from imsync.function_files import handler as load


def _summary(name, event, context):
    try:
        return load(name)(event, context)
    except RunFailed as failed:
        return failed.summary


def replicate_on_create(event, context=None):
    return _summary("replicate_on_create", event, context)


def scheduled_dr_copy(event, context=None):
    return _summary("scheduled_dr_copy", event, context)


def share_on_complete(event, context=None):
    return _summary("share_on_complete", event, context)


def accept_shares(event, context=None):
    return _summary("accept_shares", event, context)
