"""The use cases (replicate, sweep, complete; accept for the recipient) and their rooms, one concern per module.

replicator     the use cases, each a short method over the collaborators below (wired in imsync.bootstrap)
accept         the recipient's use case: accept what trusted owners shared (Acceptor)
scope          which source images a trigger names, or which are opted in
reconcile      plan each source (the domain planner) and carry out its actions
copies         the in-flight budget, starting copies, requests whose answer was lost
copy_notes     the copy-job notes on sources, for copies IMS does not list yet
claims         this process's copies in flight (one table per process)
finalize       the tags and the share mark of finished replicas (and of sources shared in their own region)
sharing        member calls in batches, and IMS's member jobs followed
notifications  what a run tells people, once (the policy is in imsync.notices)
journal        each decision recorded in the summary and the log
estate         what IMS shows, read once per run
summary        Result and Summary, what a use case answers
"""

from imsync.service.replicator import Replicator
from imsync.service.summary import Result, Summary

__all__ = ["Replicator", "Result", "Summary"]
