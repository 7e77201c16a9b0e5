"""The HTTP operations the emulator serves, with the IMS rules (see docs/emulator.md).

One module per resource (images, tags, copies, members, iam, smn); routes.py lists every route.
"""

from .auth import authenticate
from .common import Caller
from .routes import route

__all__ = ["Caller", "authenticate", "route"]
