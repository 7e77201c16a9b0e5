"""The four handlers from functions/<name>/handler.py, loaded as the platforms do (by file, not package)."""

from imsync.function_files import handler as load


def replicate_on_create(event, context=None):
    return load("replicate_on_create")(event, context)


def scheduled_dr_copy(event, context=None):
    return load("scheduled_dr_copy")(event, context)


def share_on_complete(event, context=None):
    return load("share_on_complete")(event, context)


def accept_shares(event, context=None):
    return load("accept_shares")(event, context)
