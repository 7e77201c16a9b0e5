"""`imsync doctor`: the pre-flight checklist. Each check says pass, warn, fail (or skip) and, when not pass, the fix.

Checks only read: IAM (projects, the agency and its roles) and IMS (the image quota). They run in order;
a check that needs an earlier one (accepted credentials, valid settings) is skipped when it failed, and
a check whose read failed is reported "not checked" (skip), never pass. One failing read never stops
the others.
"""
