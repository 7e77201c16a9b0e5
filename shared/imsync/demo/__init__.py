"""`imsync demo`: the whole story on the embedded emulator, with the real handlers and the real SDK.

A small estate is seeded (eligible images with different policies, an ISO image, an encrypted one, one
too large, one still being created, one whose replica was deleted by hand, a partner account to share
with); then create events, completion polls and DR runs are driven while the emulator's clock runs,
and the partner account's accept_shares accepts what the owner shared (and leaves a stranger's share
pending). The demo checks the end state itself and exits non-zero when it is not right.

The modules: `estate` seeds the estate, `end_state` checks and shows where it ends, `runner` drives the
handlers over emulated time (and is the click command).
"""
