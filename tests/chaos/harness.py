"""The chaos harness: a seeded estate, a seeded schedule of events and faults, invariants after every step.

One ``ChaosRun(seed, steps)`` owns an emulator, the environment of a deployment in cn-north-4 and a
random generator. ``run()`` plays the schedule (create/tag events delivered, duplicated, reordered or
dropped; DR runs; completion polls and events; handlers from several threads at once; the clock; users
changing tags, deleting replicas, creating images) while the emulator injects 429, 500, 503, lost
answers after the effect, and delays past the client timeout. After every step it checks:

1. never more than one live (not killed, not deleted) replica per (source image, destination region);
3. every replica is in an allowed region its source's tags named at some time, copied from a source
   region of the deployment; every member of every image is a project of a configured alias its
   source's tags named; IMS never ran more than 5 copies at once; no credential in a log line or summary.

Then, faults off, it runs DR runs and polls until invariant 2 holds (or a bound is hit):

2. every opted-in eligible image has one active, tagged replica per allowed region of its policy and is
   shared with every project of its aliases; everything refused carries a reason in the last summary;
   the partner account's accept_shares (trusting the owner) has accepted every share it received,
   except whole-ECS images (no vault: refused with the reason).

accept_shares runs as the partner (its keys on a FunctionGraph-like context), alone and among the
concurrent calls; invariant 3 also holds that the partner never accepts a stranger's share and never
rejects anything.

A violation is recorded with the seed and the step, so ``python -m tests.chaos.soak --seed S --steps N``
replays it (thread interleavings aside).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from imsync import bootstrap
from imsync.emulator import Emulator, ManualClock, profile
from imsync.emulator.model import new_sk
from imsync.emulator.readings import RELAXED_TAGS
from imsync.function_files import handler as function_handler
from imsync.observability import logger
from imsync.service.claims import RecentCopies, RecentNotices
from tests.helpers.events import load_event

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
SOURCE_REGIONS = ("cn-north-4", "cn-south-1")
ALLOWED = ("cn-north-4", "cn-east-3", "cn-south-1")  # ap-southeast-1 exists but is never allowed
NOT_EMULATED = "eu-west-101"
TIMEOUT = 0.3  # IMSYNC_HTTP_TIMEOUT: short, so that delayed answers cost little real time
DELAY = 0.45  # an injected delay, past the timeout
MAX_IN_FLIGHT = 5
MAX_TAGS = 10  # IMS's strict reading (BatchAddOrDeleteTags page); the relaxed one allows 20 (readings.tag_rules)
RELAXED_MAX_TAGS = 20
POLICY_KEYS = ("imsync-regions", "imsync-share", "imsync-when", "imsync-retain")  # what a person edits
WRITES = ("POST", "PUT", "DELETE", "PATCH")
LIST_ATTEMPTS = 5  # imsync's Retrier: one listing and its retries
SMN_PUBLISH = r"/notifications/topics/[^/]+/publish$"
GIB = 1024**3
LARGE = {"cn-south-1", "cn-east-2", "cn-east-3", "cn-north-4"}
TAG_CHARS = re.compile(r"^[A-Za-z0-9_\-., +;]*$")
SEPARATORS = re.compile(r"[_,+; ]+")
MARKER = re.compile(r"imsync:source=(?P<region>[a-z0-9-]+)/(?P<id>[A-Za-z0-9-]+)")
CTS_SAMPLES = (
    "cts_create_image",
    "cts_add_tag",
    "cts_batch_tags_action",
    "cts_update_image",
    "cts_create_image_bare",
    "eventbridge_cts",
    "eventgrid_batch",
)


PROBLEM_TYPES = {"refused": "imsync.copy.refused", "failed": "imsync.copy.failed", "stuck": "imsync.copy.stuck"}
DIGEST_TYPE = "imsync.digest"
READY_TYPE = "imsync.replica.ready"
DELETED_TYPE = "imsync.replica.deleted"


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    """Environment variables set for one sequential call (never while handlers run from several threads)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _notice(message: Any) -> dict[str, Any]:
    """The notice a published SMN message carries (its machine-readable entry), or {}."""
    try:
        structure = json.loads(message.message_structure) if message.message_structure else {}
        text = structure.get("http") or structure.get("https") or message.message
        notice = json.loads(text)
    except (ValueError, TypeError, AttributeError):
        return {}
    return notice if isinstance(notice, dict) else {}


@dataclass
class Violation:
    seed: int
    step: int
    invariant: str
    detail: str

    def __str__(self) -> str:
        return (
            f"VIOLATION invariant {self.invariant} at step {self.step} (replay: python -m tests.chaos.soak "
            f"--seed {self.seed} --steps {max(self.step, 1)}): {self.detail}"
        )


@dataclass
class Figures:
    readings: str = "documented"
    steps: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    handler_calls: Counter[str] = field(default_factory=Counter)
    step_kinds: Counter[str] = field(default_factory=Counter)
    copies: int = 0
    failed_copies_injected: int = 0
    requests: int = 0
    log_lines: int = 0
    summaries: int = 0
    convergence_rounds: int | None = None
    converged: bool = False
    max_in_flight: int = 0
    seconds: float = 0.0
    episodes: Counter[str] = field(default_factory=Counter)  # dead/slow regions, notifier outages, rotations
    fresh_instances: int = 0
    full_sources: int = 0
    notices: int = 0
    failed_runs: int = 0


class _LogTap(io.TextIOBase):
    """The Powertools logger's stream during a run: counts lines and hands each one to a checker."""

    def __init__(self, check: Callable[[str], None]) -> None:
        self._check = check
        self._buffer = ""
        self._lock = threading.Lock()
        self.lines = 0

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line:
                self.lines += 1
                self._check(line)
        return len(text)


@dataclass
class PartnerContext:
    """A FunctionGraph context with the partner account's keys: accept_shares runs in that account."""

    ak: str
    sk: str

    def getSecurityAccessKey(self) -> str:
        return self.ak

    def getSecuritySecretKey(self) -> str:
        return self.sk

    def getSecurityToken(self) -> str:
        return ""

    def getRemainingTimeInMilliSeconds(self) -> int:
        return 6000  # little time left: accept_shares never waits in real time for a job


class ChaosRun:
    """One seeded chaos run against a fresh emulator; use as a context manager."""

    def __init__(
        self,
        seed: int,
        steps: int,
        *,
        images: int = 14,
        fault_rate: float = 0.06,
        delay_rate: float = 0.002,
        threads: int = 3,
        final_rounds: int = 40,
        progress: Callable[[str], None] | None = None,
        readings: str = "documented",
    ) -> None:
        self.readings = readings
        self.seed = seed
        self.steps = steps
        self.n_images = images
        self.fault_rate = fault_rate
        self.delay_rate = delay_rate
        self.threads = threads
        self.final_rounds = final_rounds
        self.progress = progress
        self.rng = random.Random(seed)
        self.figures = Figures(readings=readings)
        self.violations: list[Violation] = []
        self.step = 0
        self.summaries: list[dict[str, Any]] = []
        self._summary_lock = threading.Lock()
        self._pending: deque[tuple[int, dict[str, Any], str]] = deque()
        self._ever_regions: dict[str, set[str]] = defaultdict(set)
        self._ever_aliases: dict[str, set[str]] = defaultdict(set)
        self._sources: list[str] = []  # ids of images created as sources (any region)
        self._fault_rules: list[tuple[str, Any]] = []
        self._saved_env: dict[str, str | None] = {}
        self._secrets: list[str] = []
        self._ever_full: set[str] = set()  # sources seen with a full tag budget (for the report)
        self._duplicates: set[tuple[str, str]] = set()  # (source, region) already reported under invariant 1
        self._rewritten: dict[str, list[int]] = {}  # source -> the steps at which a tool rewrote its whole tag set
        self._topic_back_at = 0  # the step at which a deleted alerts topic is created again (0: it is there)
        self._stale_key: tuple[int, str] | None = None  # (step, key): the setting lags the rotated key until then
        self._episodes: list[tuple[int, str, list[Any]]] = []  # (last step, kind, fault rules) of open episodes
        self._sequential = True  # False while handlers run from several threads (requests are then not theirs)
        self._announced: Counter[tuple[str, str, str, str]] = Counter()  # fact -> individual notices
        self._problems_seen: set[tuple[str, str, str, str]] = set()  # facts runs reported, notifier expected
        self._smn_seen = 0
        self._told: set[tuple[str, str, str, str]] = set()
        self._ready: Counter[str] = Counter()
        self._deletions_told: Counter[str] = Counter()  # replica -> its deletion notices (all, heard or not)
        self._deletions_heard: Counter[str] = Counter()  # the same, those whose publish imsync heard succeed
        self._stormed: set[tuple[str, str, str, str]] = set()

    # ---- set-up ------------------------------------------------------------------------------

    def __enter__(self) -> ChaosRun:
        self.cloud = Emulator(regions=REGIONS, clock=ManualClock(), image_quota=500, readings=profile(self.readings))
        cloud = self.cloud
        self.auditor = cloud.add_account("auditor")
        self.stranger = cloud.add_account("stranger")
        self.targets = {
            "partner": {r: [cloud.recipient.projects[r]] for r in REGIONS},
            "auditor": {r: [self.auditor.projects[r]] for r in ("cn-north-4", "cn-east-3")},
        }
        env = dict(cloud.env)
        env.update(
            {
                "IMSYNC_HOME_REGION": HOME,
                "IMSYNC_SOURCE_REGIONS": ",".join(SOURCE_REGIONS),
                "IMSYNC_ALLOWED_REGIONS": ",".join(ALLOWED),
                "IMSYNC_AGENCY": "imsync-copy",
                "IMSYNC_SHARE_TARGETS": json.dumps(self.targets),
                "IMSYNC_HTTP_TIMEOUT": str(TIMEOUT),
                "IMSYNC_MAX_CONCURRENT_COPIES": str(MAX_IN_FLIGHT),
                "IMSYNC_DRY_RUN": "false",
                # accept_shares' settings (in the partner's deployment); the owner's functions ignore them.
                "IMSYNC_TRUSTED_OWNERS": ",".join(cloud.owner.projects[r] for r in REGIONS),
                "IMSYNC_ACCEPT_REGIONS": ",".join(REGIONS),
            }
        )
        # Notices go to SMN, whose outages are faults like any other (the publish is a write).
        self.topic = cloud.smn.add_topic("imsync-chaos", HOME)
        self.partner_topic = cloud.smn.add_topic("imsync-partner", HOME, cloud.recipient)
        env["IMSYNC_SMN_TOPIC_URN"] = self.topic
        self.partner = PartnerContext(cloud.recipient.ak, cloud.recipient.sk)
        for key, value in env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._secrets = [a.sk for a in cloud.accounts.values()] + [a.ak for a in cloud.accounts.values()]
        self._saved_claims, bootstrap.claims = bootstrap.claims, RecentCopies()
        self._saved_told, bootstrap.told = bootstrap.told, RecentNotices()
        # Waiting for a member job, or before a retry, lets the emulated cloud's time pass, not the soak's.
        self._saved_pause, bootstrap.pause = bootstrap.pause, cloud.clock.advance
        # imsync's time of day is the emulated cloud's: waits measured in minutes (a lost copy answer) expire.
        self._saved_wall_clock, bootstrap.wall_clock = bootstrap.wall_clock, cloud.clock.now
        self._tap = _LogTap(self._scan_log)
        self._handler = logger.registered_handler
        self._saved_stream = self._handler.setStream(self._tap)  # type: ignore[attr-defined]
        # The handler may write to whatever sys.stdout is at the time: point that at the tap too.
        self._saved_stdout, sys.stdout = sys.stdout, self._tap  # type: ignore[assignment]
        self._build_estate()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout = self._saved_stdout
        self._handler.setStream(self._saved_stream)  # type: ignore[attr-defined]
        bootstrap.pause = self._saved_pause
        bootstrap.wall_clock = self._saved_wall_clock
        bootstrap.claims = self._saved_claims
        bootstrap.told = self._saved_told
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.cloud.close()

    def _random_policy(self) -> dict[str, str]:
        rng = self.rng
        tags: dict[str, str] = {}
        if rng.random() < 0.85:
            pool = ["cn-east-3", "cn-south-1", "cn-north-4"] * 3 + ["ap-southeast-1", NOT_EMULATED]
            chosen = list(dict.fromkeys(rng.sample(pool, rng.randint(1, 3))))
            value = rng.choice(["_", ",", "+", " "]).join(chosen)
            if rng.random() < 0.05:
                value = "_".join(REGIONS + REGIONS)  # over IMS's 43 characters: refused whole
            if rng.random() < 0.03:
                value = value + "_cn-east-3!"  # a character IMS tags do not allow
            tags["imsync-regions"] = value
        share = rng.choice([None, None, "partner", "auditor", "partner_auditor", "stranger", "partner_stranger"])
        if share:
            tags["imsync-share"] = share
        when = rng.choice([None, None, None, None, "event", "schedule", "later"])
        if when:
            tags["imsync-when"] = when
        for i in range(rng.choice([0, 0, 1, 2, 7])):  # with 3 policy tags: IMS's 10
            tags[f"user-{i}"] = f"v{i}"
        if rng.random() < 0.12:  # a source whose tag budget is full: no room for any note of imsync's
            for i in range(self.max_tags):
                if len(tags) >= self.max_tags:
                    break
                tags.setdefault(f"user-{i}", f"v{i}")
        return tags

    @property
    def max_tags(self) -> int:
        return RELAXED_MAX_TAGS if self.cloud.readings.tag_rules == RELAXED_TAGS else MAX_TAGS

    def _new_source(self, region: str, status: str | None = None) -> str:
        rng = self.rng
        size = rng.choice([1, 20, 40, 100]) if rng.random() > 0.06 else rng.choice([200, 310])
        rec = self.cloud.region(region).add_image(
            name=f"img-{len(self._sources)}",
            tags=self._random_policy(),
            status=status or rng.choices(["active", "saving", "queued"], [8, 1, 1])[0],
            size_gb=size,
            encrypted=rng.random() < 0.05,
            iso=rng.random() < 0.04,
            frozen=rng.random() < 0.04,
            whole_image=rng.random() < 0.04,
        )
        self._remember_policy(rec.id, rec.tags)
        self._sources.append(rec.id)
        self.figures.full_sources += len(rec.tags) >= self.max_tags
        return rec.id

    def _remember_policy(self, image_id: str, tags: dict[str, str]) -> None:
        self._ever_regions[image_id].update(SEPARATORS.split(tags.get("imsync-regions", "")))
        self._ever_aliases[image_id].update(SEPARATORS.split(tags.get("imsync-share", "")))

    def _build_estate(self) -> None:
        for i in range(self.n_images):
            self._new_source(SOURCE_REGIONS[i % len(SOURCE_REGIONS)])
        # A decoy outside the source regions: nothing may ever be copied from it.
        self._new_source("cn-east-3", status="active")
        # Shares from an account the partner does not trust: they must stay pending for ever.
        for region in (HOME, "cn-east-3"):
            pending = {self.cloud.recipient.projects[region]: "pending"}
            self.cloud.region(region).add_image(name="stranger-tool", owner=self.stranger, members=pending)
            # The owner's account accepts shares too (role "both"): a stranger's share with it stays pending.
            to_owner = {self.cloud.owner.projects[region]: "pending"}
            self.cloud.region(region).add_image(name="stranger-gift", owner=self.stranger, members=to_owner)
        self._install_faults()

    def _install_faults(self) -> None:
        rate, faults, seed = self.fault_rate, self.cloud.faults, self.seed
        self._fault_rules = [
            ("timeout", faults.add(delay=DELAY, probability=self.delay_rate, count=None, seed=seed + 1)),
            ("429", faults.add(status=429, probability=rate, count=None, seed=seed + 2)),
            ("500", faults.add(status=500, probability=rate / 2, count=None, seed=seed + 3)),
            ("503", faults.add(status=503, probability=rate / 2, count=None, seed=seed + 4)),
            ("lost_answer", faults.add(lose_answer=True, probability=rate / 2, count=None, seed=seed + 5)),
        ]
        # Every write (copy, tags, members, accept, delete, publish) may be done by IMS and answered with an
        # error, or answered too late for the client: the outcome is unknown to imsync.
        for n, method in enumerate(WRITES):
            for kind, rule in (
                ("5xx_after", dict(status=self.rng.choice([500, 502, 503, 504]), after_effect=True)),
                ("timeout_after", dict(delay=DELAY)),
            ):
                rule_rate = rate / 2 if kind == "5xx_after" else self.delay_rate * 4
                fault = faults.add(method=method, probability=rule_rate, count=None, seed=seed + 10 + 2 * n, **rule)
                self._fault_rules.append((kind, fault))

    # ---- the schedule ------------------------------------------------------------------------

    def run(self) -> Figures:
        started = time.monotonic()
        kinds = ["event", "dr", "poll", "completion", "accept", "concurrent", "advance", "mutate", "world"]
        weights = [34, 8, 8, 6, 5, 10, 24, 10, 3]
        for step in range(1, self.steps + 1):
            self.step = step
            self._end_episodes()
            if self.rng.random() < 0.5:
                self._fresh_instance()
            kind = self.rng.choices(kinds, weights)[0]
            self.figures.step_kinds[kind] += 1
            getattr(self, f"_step_{kind}")()
            self._deliver_due()
            self.check_safety()
            self._check_notices()
            if self.progress and self.step % 500 == 0:
                self.progress(f"step {self.step}: {len(self.violations)} violations, {self._elapsed(started):.0f} s")
        self.figures.steps = self.steps
        self._converge()
        self._collect(started)
        return self.figures

    @staticmethod
    def _elapsed(started: float) -> float:
        return time.monotonic() - started

    def _call(self, name: str, event: Any, context: Any = "default") -> dict[str, Any]:
        if context == "default":
            context = self.partner if name == "accept_shares" and self._sequential else None
        first_request, first_arrival = len(self.cloud.requests), self.cloud.arrivals + 1
        silent_before = self._silent_fired()
        raised: BaseException | None = None
        try:
            if context is self.partner:  # the partner's deployment has its own settings (its own SMN topic)
                with _env({"IMSYNC_SMN_TOPIC_URN": self.partner_topic}):
                    answer = function_handler(name)(event, context)
            else:
                answer = function_handler(name)(event, context)
        except Exception as exc:  # a failed run must fail the invocation, and still say what it did
            raised = exc
            answer = getattr(exc, "summary", None)
            if not isinstance(answer, dict):
                self._violate("handler", f"{name} raised {type(exc).__name__} without a summary: {exc}")
                return {"function": name, "ok": False, "results": [], "errors": [str(exc)]}
        self._check_failure(name, answer, raised)
        if name == "accept_shares" and context is None:
            self._check_own_images_are_no_shares(answer)
        if self._sequential:
            self._check_dead_region_cost(name, first_request, first_arrival)
            self._check_silent_region_cost(name, silent_before, first_request)
            self._check_refused_notices_fail(name, answer, first_request, first_arrival)
            self._check_refused_key_fails(name, answer, first_request, first_arrival)
        self._note_problems(answer, context)
        text = json.dumps(answer)  # every summary must be JSON-serialisable
        self._scan(text, "summary")
        with self._summary_lock:
            self.figures.handler_calls[name] += 1
            self.figures.summaries += 1
            self.summaries.append(answer)
            if len(self.summaries) > 200:
                del self.summaries[:100]
        return answer

    def _event_for(self, image_id: str) -> dict[str, Any]:
        rec = self._record(image_id)
        if rec is not None and rec.region == HOME:
            return load_event(self.rng.choice(CTS_SAMPLES), image_id=image_id)
        region = rec.region if rec is not None else HOME
        return {"image_ids": [image_id], "region": region}

    def _step_event(self) -> None:
        if not self._sources:
            return
        event = self._event_for(self.rng.choice(self._sources))
        self._send(event)

    def _send(self, event: dict[str, Any]) -> None:
        """Deliver an event as an at-least-once, unordered bus would: now, later, twice, or never."""
        fate = self.rng.choices(["now", "drop", "duplicate", "delay"], [45, 15, 20, 20])[0]
        self.figures.events[fate] += 1
        if fate == "drop":
            return
        if fate in ("now", "duplicate"):
            self._call("replicate_on_create", event)
        if fate == "duplicate":
            for _ in range(self.rng.randint(1, 2)):
                self._pending.append((self.step + self.rng.randint(0, 10), event, "duplicate"))
        if fate == "delay":
            self._pending.append((self.step + self.rng.randint(1, 30), event, "delayed"))

    def _deliver_due(self) -> None:
        due = [p for p in self._pending if p[0] <= self.step]
        if not due:
            return
        self._pending = deque(p for p in self._pending if p[0] > self.step)
        self.rng.shuffle(due)
        for _, event, _ in due:
            self._call("replicate_on_create", event)

    def _step_dr(self) -> None:
        self._call("scheduled_dr_copy", load_event(self.rng.choice(["timer", "eventbridge_scheduled", "scheduler"])))

    def _step_poll(self) -> None:
        self._call("share_on_complete", load_event("timer"))

    def _step_accept(self) -> None:
        event = load_event(self.rng.choice(["accept_timer", "timer", "scheduler"]))
        if self.rng.random() < 0.3:
            self._call("accept_shares", event, context=None)  # the owner's account accepts shares too
        else:
            self._call("accept_shares", event)

    # ---- the unkind world: episodes that last several steps ----------------------------------

    def _step_world(self) -> None:
        rng, cloud = self.rng, self.cloud
        kind = rng.choices(["dead_region", "slow_region", "notifier_down", "rotate_secret"], [3, 1, 3, 1])[0]
        if kind == "dead_region" and rng.random() < 0.5:
            kind = "silent_region"
        self.figures.episodes[kind] += 1
        until = self.step + rng.randint(3, 25)
        if kind == "silent_region":
            # Nothing answers at all, for a while: every request is held past the client's timeout, and IMS carries
            # out half of them all the same (the client cannot tell which). Unkinder than a quick 5xx: each request
            # costs a whole timeout, and a write may have happened.
            region = rng.choice(("cn-east-3", "cn-south-1"))
            acting = cloud.faults.add(region=region, slow=DELAY, probability=0.5, seed=self.seed + until, count=None)
            held = cloud.faults.add(region=region, status=504, delay=DELAY, count=None)
            self._episodes.append((until, f"silent:{region}", [acting, held]))
        elif kind == "dead_region":  # nothing answers but errors, for a while
            region = rng.choice(("cn-east-3", "cn-south-1"))
            rule = cloud.faults.add(region=region, status=rng.choice([502, 503, 504]), count=None)
            self._episodes.append((until, f"dead:{region}", [rule]))
        elif kind == "slow_region":  # answers past the client's timeout, acting all the same
            region = rng.choice(("cn-east-3", "cn-south-1"))
            rule = cloud.faults.add(region=region, slow=DELAY, probability=0.3, seed=self.seed + until, count=None)
            self._episodes.append((min(until, self.step + 5), f"slow:{region}", [rule]))
        elif kind == "notifier_down" and rng.random() < 0.25:
            # Someone deletes the alerts topic and creates it again later: SMN refuses (404 SMN.0006) rather than
            # failing, every run that tells something fails, and what it could not tell is told once it is back.
            cloud.smn.topics.discard(self.topic)
            self._topic_back_at = max(self._topic_back_at, until)
            self.figures.episodes["topic_gone"] += 1
        elif kind == "notifier_down" and rng.random() < 0.5:
            # SMN does not answer at all: every publish held past the client's timeout, half of them carried out.
            acting = cloud.faults.add(path=SMN_PUBLISH, slow=DELAY, probability=0.5, seed=self.seed + until, count=None)
            held = cloud.faults.add(path=SMN_PUBLISH, status=504, delay=DELAY, count=None)
            self._episodes.append((until, "silent:smn", [acting, held]))
            self.figures.episodes["silent_notifier"] += 1
        elif kind == "notifier_down":
            rule = cloud.faults.add(path=SMN_PUBLISH, status=rng.choice([500, 503]), count=None)
            self._episodes.append((until, "notifier", [rule]))
        else:
            self._rotate_key(follows_at=min(until, self.step + 5) if rng.random() < 0.5 else self.step)

    def _rotate_key(self, follows_at: int) -> None:
        """Rotate the owner's secret key; the deployment's setting follows at once (warm instances must follow it),
        or at step `follows_at` (rotated in IAM, the function's setting updated afterwards): every run of the
        owner's functions in between is refused, and must fail rather than report ok."""
        new = new_sk()
        self.cloud.rekey_account(self.cloud.owner, sk=new)
        self._secrets.append(new)
        if follows_at > self.step:
            self._stale_key = (follows_at, new)
            self.figures.episodes["stale_key"] += 1
        else:
            # An earlier rotation's pending update would otherwise put back its key, outdated by this one: the
            # first soak with stale keys had every run refused for 250 steps that way (a harness flaw).
            self._stale_key = None
            os.environ["HUAWEICLOUD_SDK_SK"] = new

    def _end_episodes(self) -> None:
        if self._topic_back_at and self._topic_back_at <= self.step:
            self._topic_back()
        if self._stale_key and self._stale_key[0] <= self.step:
            self._key_follows()
        still = []
        for until, kind, rules in self._episodes:
            if until > self.step:
                still.append((until, kind, rules))
                continue
            for rule in rules:
                rule.count = 0  # fires no more; its figures stay
                self.figures.faults[kind.split(":")[0]] += rule.fired
        self._episodes = still

    def _key_follows(self) -> None:
        """The deployment's setting catches up with the key the cloud holds."""
        if self._stale_key:
            os.environ["HUAWEICLOUD_SDK_SK"] = self._stale_key[1]
            self._stale_key = None

    def _topic_back(self) -> None:
        self.cloud.smn.topics.add(self.topic)
        self._topic_back_at = 0

    def _down(self, prefix: str) -> set[str]:
        return {kind.split(":", 1)[-1] for _, kind, _ in self._episodes if kind.startswith(prefix)}

    def _fresh_instance(self) -> None:
        """The next invocation lands on a new function instance: nothing of this process's memory survives."""
        bootstrap._clients.clear()
        bootstrap.claims = RecentCopies()
        bootstrap.told = RecentNotices()
        self.figures.fresh_instances += 1

    def _completion_event(self) -> dict[str, Any] | None:
        replicas = [i for r in REGIONS for i in self.cloud.region(r).images() if i.source_id()]
        if not replicas:
            return None
        replica = self.rng.choice(replicas)
        if replica.region == HOME and self.rng.random() < 0.5:
            return load_event("cts_replica_update", replica_id=replica.id)
        return {"replica_id": replica.id, "region": replica.region}

    def _step_completion(self) -> None:
        event = self._completion_event()
        if event is not None:
            self._call("share_on_complete", event)

    def _random_invocation(self) -> tuple[str, Any] | None:
        choice = self.rng.choices(["event", "dr", "poll", "completion", "accept"], [5, 2, 2, 1, 1])[0]
        if choice == "event" and self._sources:
            return "replicate_on_create", self._event_for(self.rng.choice(self._sources))
        if choice == "dr":
            return "scheduled_dr_copy", load_event("timer")
        if choice == "poll":
            return "share_on_complete", load_event("timer")
        if choice == "accept":
            return "accept_shares", load_event("accept_timer")
        event = self._completion_event()
        return ("share_on_complete", event) if event is not None else None

    def _step_concurrent(self) -> None:
        calls = [c for c in (self._random_invocation() for _ in range(self.rng.randint(2, self.threads))) if c]
        # Often the very same event from several threads: the duplicate delivery that races.
        if calls and self.rng.random() < 0.5:
            calls = [calls[0]] * len(calls)
        errors: list[BaseException] = []

        def run(name: str, event: Any) -> None:
            try:
                self._call(name, event)
            except BaseException as exc:  # _call catches what a failed run raises: anything else is a finding
                errors.append(exc)

        workers = [threading.Thread(target=run, args=call) for call in calls]
        self._sequential = False
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            self._sequential = True
        for exc in errors:
            self._violate("handler", f"a handler raised {type(exc).__name__}: {exc}")

    def _step_advance(self) -> None:
        self._advance(self.rng.uniform(5, 150))

    def _advance(self, seconds: float) -> None:
        """Move the emulated clock once no request is still held by a fault (it acts when its hold ends).

        The holds are real time (0.45 s), the clock emulated: moved meanwhile, a held copy request acted half an
        hour of emulated time after it was asked, past IMSYNC_UNLISTED_WAIT_MINUTES, so a later run asked again and
        both copies ran (the duplicate replica of the soak at b7c9322, seed 424242: the first request asked was
        answered last). A gateway's backend acts on a request in seconds, not in half an hour.
        """
        if not self.cloud.wait_for_requests(timeout=10 * DELAY):
            self._violate("harness", "a request was still held 10 delays after it arrived")
        self.cloud.clock.advance(seconds)

    def retag(self, image_id: str, rewrite: bool = False) -> Any:
        """New random tags on a source, as a person (retag) or a tool that owns the tag set (rewrite) writes them.

        A person edits the policy and their own tags and leaves imsync's notes alone; a tool such as Terraform
        puts back exactly its own set, dropping whatever else the image carried.
        """
        rec = self._record(image_id)
        if rec is None:
            return None
        tags = self._random_policy()
        with self.cloud._lock:
            for key in list(rec.tags):
                if rewrite or key in POLICY_KEYS or key.startswith("user-"):
                    del rec.tags[key]
            room = self.max_tags - len(rec.tags)
            rec.tags.update(dict(list(tags.items())[: max(room, 0)]))
        if rewrite:  # the tool dropped imsync's notice mark too: telling the image's problems again is right
            for fact in [f for f in self._announced if f[1] == rec.id]:
                del self._announced[fact]
            self._rewritten.setdefault(rec.id, []).append(self.step)  # and its copy notes (a documented limit)
        self._remember_policy(rec.id, tags)
        return rec

    def _step_mutate(self) -> None:
        rng, cloud = self.rng, self.cloud
        action = rng.choices(
            ["activate", "retag", "rewrite", "delete_replica", "new_image", "fail_copy"], [4, 3, 1, 2, 2, 1]
        )[0]
        if action == "activate":
            waiting = [i for r in SOURCE_REGIONS for i in cloud.region(r).images() if i.status in ("saving", "queued")]
            waiting = [i for i in waiting if not i.source_id()]
            if waiting:
                rec = rng.choice(waiting)
                cloud.region(rec.region).set_status(rec.id, "active")
        elif action in ("retag", "rewrite") and self._sources:
            rec = self.retag(rng.choice(self._sources), rewrite=action == "rewrite")
            if rec is not None and rec.region == HOME:
                self._send(load_event(rng.choice(["cts_add_tag", "cts_batch_tags_action"]), image_id=rec.id))
        elif action == "delete_replica":
            replicas = [i for r in REGIONS for i in cloud.region(r).images() if i.source_id()]
            if replicas:
                rec = rng.choice(replicas)
                cloud.region(rec.region).delete_image(rec.id)
        elif action == "new_image":
            image_id = self._new_source(rng.choice(SOURCE_REGIONS))
            self._send(self._event_for(image_id))
        elif action == "fail_copy":
            cloud.fail_next_copy(code="IMG.0100", reason="disk error (injected)")
            self.figures.failed_copies_injected += 1
        self.figures.step_kinds[f"mutate:{action}"] += 1

    # ---- invariants --------------------------------------------------------------------------

    def _check_failure(self, name: str, answer: dict[str, Any], raised: BaseException | None) -> None:
        """A run whose summary says ok: false fails its invocation (the platform counts it); no other run does."""
        if answer.get("ok") is False:
            self.figures.failed_runs += 1
            if raised is None:
                errors = answer.get("errors") or [answer.get("error")]
                self._violate("failed-run", f"{name} said ok: false and returned normally ({str(errors)[:160]})")
        elif raised is not None:
            self._violate("failed-run", f"{name} raised {type(raised).__name__} for a run that says ok: true")
        text = json.dumps(answer)
        if ("APIGW.0301" in text or "APIGW.0303" in text) and not self._stale_key:
            # Outside a stale-key episode the harness hands the functions the keys the cloud holds now (a rotated
            # one too): a refusal then is imsync's (an old key kept in a warm instance).
            self._violate("auth", f"{name} was refused authentication with the current keys: {text[:200]}")

    def _check_refused_key_fails(self, name: str, answer: dict[str, Any], first: int, first_arrival: int) -> None:
        """A run any of whose requests the cloud refused for its key (401) fails: a wrong key is no success."""
        refused = [r for r in self.cloud.requests[first:] if r.arrived >= first_arrival and r.status == 401]
        if refused and answer.get("ok") is not False:
            asked = ", ".join(f"#{r.arrived} {r.method} {r.operation or r.path}" for r in refused[:5])
            self._violate("wrong-key-ok", f"{name} said ok although {len(refused)} request(s) were refused: {asked}")

    def _check_own_images_are_no_shares(self, answer: dict[str, Any]) -> None:
        """In an account that both shares and accepts, its own images are never taken for shares to it."""
        for result in answer.get("results", []):
            rec = self._record(str(result.get("image_id")))
            if rec is not None and rec.owner is self.cloud.owner:
                self._violate("3-self", f"the owner's accept run took its own image {rec.id} for a share to it")

    def _check_dead_region_cost(self, name: str, first_request: int, first_arrival: int = 0) -> None:
        """A region that does not answer costs one listing (with its retries) per run, not one per source."""
        # A region that is also slow answers some requests (the slow rule fires first, then answers): not dead.
        for region in self._down("dead:") - self._down("slow:"):
            listings = [
                r
                for r in self.cloud.requests[first_request:]
                # Only what this run asked: a request of an earlier step answered past the client's timeout (an
                # injected delay) is logged late, after this run began. Two soaks reported a dead region "listed
                # 6 times", the first of them answered 200: such a late entry, by every sign.
                if r.arrived >= first_arrival
                # A 429 or a lost answer is a general rule firing before the dead region's (the first rule that matches
                # fires), and the SDK's transport repeats such a GET on its own: not a listing imsync asked for.
                and r.region == region
                and r.operation == "list_images"
                and r.method == "GET"
                and r.status not in (0, 429)
            ]
            if len(listings) > LIST_ATTEMPTS:
                # Each listing's place of arrival and its answer, so that a finding can be explained without a
                # replay (concurrent steps and real-time timeouts make a soak's trajectory differ between runs).
                asked = ", ".join(f"#{r.arrived} -> {r.status}" for r in listings)
                self._violate("dead-region", f"{name} listed dead {region} {len(listings)} times in one run: {asked}")

    def _silent_fired(self) -> dict[str, int]:
        """How many requests each silent region's rules have held so far (counted as the requests arrive)."""
        held: Counter[str] = Counter()
        for _, kind, rules in self._episodes:
            if kind.startswith("silent:"):
                held[kind.split(":", 1)[1]] += sum(rule.fired for rule in rules)
        return dict(held)

    def _check_silent_region_cost(self, name: str, before: dict[str, int], first_request: int) -> None:
        """A region (or SMN: "smn") that does not answer at all costs one timeout per run: its first unanswered
        request gives it up for the run."""
        for region, fired in self._silent_fired().items():
            held = fired - before.get(region, 0)
            if held > 1:
                asked = [
                    r
                    for r in self.cloud.requests[first_request:]
                    if r.region == region or (region == "smn" and re.search(SMN_PUBLISH, r.path))
                ]
                listed = ", ".join(f"#{r.arrived} {r.method} {r.operation} -> {r.status}" for r in asked)
                self._violate("silent-region", f"{name} waited out silent {region} {held} times in one run: {listed}")

    def _check_refused_notices_fail(self, name: str, answer: dict[str, Any], first: int, first_arrival: int) -> None:
        """A run whose notices SMN refused (the topic is gone: 404) fails: that is no success to the platform."""
        refused = [
            r
            for r in self.cloud.requests[first:]
            if r.arrived >= first_arrival and r.status == 404 and re.search(SMN_PUBLISH, r.path)
        ]
        if refused and answer.get("ok") is not False:
            self._violate("refused-notice", f"{name} reported ok although SMN refused {len(refused)} publish(es)")

    def _copies_of(self, source_id: str) -> str:
        """How a source's copies came about, to explain a duplicate without a replay: each copy request (its place
        of arrival and its answer: 0 for a lost one) and each copy job (destination, start, status, replica)."""
        asked = [
            f"#{r.arrived} -> {r.status}"
            for r in self.cloud.requests
            if r.operation == "copy_image_cross_region" and source_id in r.path
        ]
        jobs = [
            f"{j.dest_region} at {j.begin_ts:.0f} {j.status} -> {j.replica_id[:8]}"
            for j in self.cloud.jobs()
            if j.is_copy and j.image_id == source_id
        ]
        rewrites = self._rewritten.get(source_id, [])  # a tool dropping a note within the listing delay: a known limit
        return f"copy requests [{', '.join(asked)}]; copy jobs [{'; '.join(jobs)}]; tags rewritten at steps {rewrites}"

    def _note_problems(self, answer: dict[str, Any], context: Any) -> None:
        """Problems the owner's runs report: each must reach a person at least once, and at most twice."""
        if context is not None or answer.get("function") == "accept_shares":
            return
        reported = {
            (PROBLEM_TYPES[r["outcome"]], str(r.get("image_id")), str(r.get("region")), "")
            for r in answer.get("results", [])
            if r.get("outcome") in PROBLEM_TYPES
        }
        self._problems_seen |= reported
        # A problem of an image this run looked at that it no longer reports went away: if it comes back, it is
        # a new fact and is announced anew (docs/reliability.md), so its count starts again. Runs from several
        # threads count too: each answer is its own run's (a retag seen only by one of them ends a fact as well).
        looked_at = {str(r.get("image_id")) for r in answer.get("results", [])}
        for fact in [f for f in self._announced if f[1] in looked_at and (*f[:3], "") not in reported]:
            del self._announced[fact]

    def _check_notices(self) -> None:
        """Each fact is announced at most twice while it lasts (no storm): individual notices, not digests."""
        messages = self.cloud.smn.messages(self.topic)
        for message in messages[self._smn_seen :]:
            notice = _notice(message)
            self.figures.notices += 1
            kind = str(notice.get("type", ""))
            # A message whose answer imsync never heard as a success may have been delivered without imsync knowing:
            # telling it again is the price of at least once. Such copies do not count towards "at most twice".
            heard = message.message_id not in self.cloud.smn.unanswered
            if kind in PROBLEM_TYPES.values():
                where = (kind, str(notice.get("source_image_id")), str(notice.get("region")))
                fact = (*where, str(notice.get("reason", "")))  # one image may have several problems in one region
                self._announced[fact] += heard
                self._told.add((*where, ""))
                if self._announced[fact] > 2 and fact not in self._stormed:
                    self._stormed.add(fact)  # one finding per fact, however long the storm lasts
                    self._violate("notice-storm", f"{fact[0]} for {fact[1]} in {fact[2]} ({fact[3]}) told 3 times")
            elif kind == DIGEST_TYPE:
                for item in notice.get("items", []):
                    fact = (str(item.get("type")), str(item.get("source_image_id")), str(item.get("region")), "")
                    self._told.add(fact)
            elif kind == READY_TYPE:
                replica = str(notice.get("replica_id") or notice.get("image_id"))
                self._ready[replica] += heard
                if self._ready[replica] == 3:
                    self._violate("notice-storm", f"replica {replica} announced ready 3 times")
            elif kind == DELETED_TYPE:
                replica = str(notice.get("replica_id"))
                self._deletions_told[replica] += 1
                self._deletions_heard[replica] += heard
                if self._deletions_heard[replica] == 3:
                    self._violate("notice-storm", f"the deletion of replica {replica} announced 3 times")
        self._smn_seen = len(messages)

    def _check_nothing_lost(self, final: list[dict[str, Any]]) -> None:
        """After convergence: every problem still open, and reported on the way, reached a person."""
        self._check_notices()
        still_open = set()
        for answer in final:
            for result in answer.get("results", []):
                if result.get("outcome") in PROBLEM_TYPES:
                    kind = PROBLEM_TYPES[result["outcome"]]
                    still_open.add((kind, str(result.get("image_id")), str(result.get("region")), ""))
        for fact in sorted((still_open & self._problems_seen) - self._told):
            self._violate("notice-lost", f"{fact[0]} for {fact[1]} in {fact[2]} was never announced")

    def _record(self, image_id: str) -> Any:
        for region in REGIONS:
            rec = self.cloud.region(region).image(image_id)
            if rec is not None:
                return rec
        return None

    def _violate(self, invariant: str, detail: str) -> None:
        violation = Violation(self.seed, self.step, invariant, detail)
        if all(str(v) != str(violation) for v in self.violations[-20:]):
            self.violations.append(violation)
            if self.progress:
                self.progress(str(violation))

    def _scan(self, text: str, where: str) -> None:
        for secret in self._secrets:
            if secret and secret in text:
                self._violate("3-credentials", f"a credential value appears in a {where}")
        for marker in ("SDK-HMAC-SHA256 ", "Signature=", "Authorization"):
            if marker in text:
                self._violate("3-credentials", f"'{marker}' appears in a {where}")

    def _scan_log(self, line: str) -> None:
        self._scan(line, "log line")

    def check_safety(self) -> None:
        """Invariants 1 and 3 on the emulator's state as it is now."""
        cloud = self.cloud
        live: Counter[tuple[str, str]] = Counter()
        sources = {}
        for region in (*SOURCE_REGIONS, "cn-east-3"):
            for rec in cloud.region(region).images():
                if not rec.source_id():
                    sources[rec.id] = rec
                    if len(rec.tags) >= self.max_tags:
                        self._ever_full.add(rec.id)
        for region in REGIONS:
            for rec in cloud.region(region).images():
                source_id = rec.source_id()
                if source_id:
                    source = sources.get(source_id)
                    if rec.status not in ("killed", "deleted"):
                        live[(source_id, region)] += 1
                    if region not in ALLOWED:
                        self._violate("3-region", f"replica {rec.id} of {source_id} in {region}, not allowed")
                    elif region not in self._ever_regions[source_id]:
                        self._violate("3-region", f"replica {rec.id} of {source_id} in {region}: never in its tags")
                    if source is not None and source.region not in SOURCE_REGIONS:
                        self._violate("3-region", f"replica {rec.id} copied from {source.region}, not a source region")
                    owner_id = source_id
                else:
                    owner_id = rec.id
                self._check_answer(rec, region)
                if rec.owner.projects.get(region) in rec.members:
                    self._violate("3-self", f"image {rec.id} in {region} lists its own owner as a member")
                if rec.owner is not cloud.owner:
                    continue  # a stranger's share with the partner: not imsync's doing
                allowed = {
                    p
                    for alias in self._ever_aliases[owner_id] & set(self.targets)
                    for p in self.targets[alias].get(region, ())
                }
                extra = set(rec.members) - allowed
                if extra:
                    self._violate("3-share", f"image {rec.id} in {region} shared with unconfigured {sorted(extra)}")
        for (source_id, region), count in live.items():
            if count > 1 and (source_id, region) not in self._duplicates:
                self._duplicates.add((source_id, region))  # a lasting duplicate is one finding, not one per step
                full = " (a source with a full tag budget)" if source_id in self._ever_full else ""
                self._violate(
                    "1", f"{count} live replicas of {source_id} in {region}{full}: {self._copies_of(source_id)}"
                )
        if cloud.max_in_flight > MAX_IN_FLIGHT:
            self._violate("3-limit", f"IMS saw {cloud.max_in_flight} copies in flight (limit {MAX_IN_FLIGHT})")

    def _check_answer(self, rec: Any, region: str) -> None:
        """The partner accepts only the trusted owner's shares, and rejects nothing."""
        answer = rec.members.get(self.cloud.recipient.projects[region])
        if answer == "rejected":
            self._violate("3-accept", f"the partner rejected image {rec.id} in {region}")
        if answer == "accepted" and rec.owner is not self.cloud.owner:
            self._violate("3-accept", f"the partner accepted image {rec.id} of untrusted {rec.owner.name} in {region}")

    # ---- convergence -------------------------------------------------------------------------

    def _converge(self) -> None:
        """Faults off, pending events delivered, images finished: DR runs and polls until invariant 2 holds."""
        cloud = self.cloud
        cloud.faults.clear()
        self._topic_back()
        self._key_follows()
        for _until, kind, rules in self._episodes:
            self.figures.faults[kind.split(":")[0]] += sum(rule.fired for rule in rules)
        self._episodes = []
        for _, event, _ in list(self._pending):
            self._call("replicate_on_create", event)
        self._pending.clear()
        for region in SOURCE_REGIONS:
            for rec in cloud.region(region).images():
                if rec.status in ("saving", "queued") and not rec.source_id():
                    cloud.region(region).set_status(rec.id, "active")
        # A copy answered with a 5xx before IMS acted is noted as asked for: it is asked again once the
        # wait for IMS to list it has passed (IMSYNC_UNLISTED_WAIT_MINUTES, default 30).
        self._advance(31 * 60)
        problems: list[str] = []
        for round_no in range(1, self.final_rounds + 1):
            self._advance(0)
            cloud.run_until_idle()
            sweep = self._call("scheduled_dr_copy", load_event("timer"))
            self._advance(0)
            cloud.run_until_idle()
            poll = self._call("share_on_complete", load_event("timer"))
            accepted = self._call("accept_shares", load_event("accept_timer"))
            self.check_safety()
            problems = self.completion_problems([sweep, poll, accepted])
            if not problems:
                self.figures.convergence_rounds = round_no
                self.figures.converged = True
                self._check_nothing_lost([sweep, poll])
                return
        for problem in problems[:20]:
            self._violate("2", problem)

    def completion_problems(self, last: list[dict[str, Any]]) -> list[str]:
        """Why invariant 2 does not hold yet (empty when it does), judged by an oracle independent of imsync."""
        problems: list[str] = []
        results = [r for summary in last for r in summary.get("results", [])]
        # With faults off, a settled estate gives no errors: every remaining problem is a refusal with a reason.
        errors = [r for r in results if r["outcome"] == "error"]
        problems += [f"{r.get('image_id')} in {r.get('region')}: error '{r.get('reason')}'" for r in errors]
        problems += [f"{s['function']}: {e}" for s in last for e in s.get("errors", [])]
        for source_id in self._sources:
            rec = self._record(source_id)
            if rec is None or rec.region not in SOURCE_REGIONS or "imsync-regions" not in rec.tags:
                continue
            mine = [r for r in results if r.get("image_id") == source_id]
            policy = rec.tags["imsync-regions"] + "_" + rec.tags.get("imsync-share", "")
            named = [x for x in SEPARATORS.split(policy) if x]
            if not mine and named:
                problems.append(f"{source_id}: opted in, but no summary says anything about it (silently dropped)")
                continue
            reasons = " | ".join(r.get("reason", "") for r in mine if r["outcome"] in ("refused", "failed"))
            value = rec.tags["imsync-regions"]
            if len(value) > 43 or not TAG_CHARS.match(value):
                if "imsync-regions" not in reasons:
                    problems.append(f"{source_id}: invalid imsync-regions {value!r} refused without a reason")
                continue
            aliases = [a for a in SEPARATORS.split(rec.tags.get("imsync-share", "")) if a]
            share_value = rec.tags.get("imsync-share", "")
            if len(share_value) > 43 or not TAG_CHARS.match(share_value):
                aliases = []
            for alias in aliases:
                if alias not in self.targets and f"'{alias}'" not in reasons:
                    problems.append(f"{source_id}: unknown alias {alias} refused without a reason")
            known = [a for a in aliases if a in self.targets]
            shareable = not rec.encrypted and not rec.frozen  # IMS shares active, unfrozen images only
            if known and shareable:
                wanted = {p for a in known for p in self.targets[a].get(rec.region, ())}
                if not wanted <= set(rec.members):
                    problems.append(
                        f"{source_id}: source not shared with {sorted(wanted - set(rec.members))} "
                        f"(tags {rec.tags}, members {sorted(rec.members)}, said {[r.get('reason') for r in mine]})"
                    )
            for region in dict.fromkeys(r for r in SEPARATORS.split(value) if r):
                if region not in ALLOWED:
                    if f"'{region}'" not in reasons:
                        problems.append(f"{source_id}: region {region} not allowed, refused without a reason")
                    continue
                if region == rec.region:
                    continue
                if why := self._ineligible(rec, region):
                    region_reasons = [r for r in mine if r.get("region") == region and r["outcome"] == "refused"]
                    if not region_reasons:
                        problems.append(f"{source_id}: {why} to {region}, but no refusal says so")
                    continue
                problems += self._replica_problems(rec, region, known, mine)
        return problems + self._unanswered(results)

    def _unanswered(self, results: list[dict[str, Any]]) -> list[str]:
        """Shares from the owner that the partner has not accepted (whole-ECS ones: refused with the reason)."""
        problems = []
        refused = {r.get("image_id") for r in results if r["action"] == "accept" and r["outcome"] == "refused"}
        for region in REGIONS:
            partner = self.cloud.recipient.projects[region]
            for rec in self.cloud.region(region).images():
                if rec.owner is not self.cloud.owner or rec.members.get(partner) in (None, "accepted"):
                    continue
                if rec.whole_image and rec.id in refused:
                    continue
                problems.append(f"{rec.id} in {region}: shared with the partner, still {rec.members[partner]}")
        return problems

    @staticmethod
    def _ineligible(rec: Any, region: str) -> str | None:
        limit = (300 if rec.region in LARGE else 128) * GIB
        for flag, why in (
            (rec.image_type != "private", "not private"),
            (rec.iso, "ISO"),
            (rec.encrypted, "encrypted"),
            (rec.frozen or rec.status == "frozen", "frozen"),
            (rec.size_bytes > limit, "too large"),
            (rec.whole_image, "whole-ECS image without a vault"),
        ):
            if flag:
                return why
        return None

    def _replica_problems(self, rec: Any, region: str, aliases: list[str], mine: list[dict[str, Any]]) -> list[str]:
        replicas = [r for r in self.cloud.region(region).replicas_of(rec.id) if r.status not in ("killed", "deleted")]
        killed = [r for r in self.cloud.region(region).replicas_of(rec.id) if r.status == "killed"]
        if not replicas:
            gave_up = [r for r in mine if r.get("region") == region and r["outcome"] == "failed"]
            if len(killed) >= 3 and gave_up:
                return []  # IMS failed it three times: reported, with the way out (accepted, not silent)
            return [f"{rec.id}: no replica in {region} yet"]
        replicas.sort(key=lambda r: (r.status != "active", r.created_at, r.id))  # a duplicate is invariant 1's
        (replica,) = replicas[:1]
        problems = []
        if replica.status != "active":
            problems.append(f"{rec.id}: replica in {region} is {replica.status}")
        if replica.tags.get("imsync-source") != rec.id or replica.tags.get("imsync-source-region") != rec.region:
            problems.append(f"{rec.id}: replica {replica.id} in {region} lacks its lineage tags")
        wanted = {p for a in aliases for p in self.targets[a].get(region, ())}
        if not wanted <= set(replica.members):
            problems.append(f"{rec.id}: replica in {region} not shared with {sorted(wanted - set(replica.members))}")
        return problems

    # ---- figures -----------------------------------------------------------------------------

    def _collect(self, started: float) -> None:
        figures = self.figures
        for kind, rule in self._fault_rules:
            figures.faults[kind] += rule.fired
        figures.copies = sum(1 for j in self.cloud.jobs() if j.is_copy)
        figures.requests = len(self.cloud.requests)
        figures.log_lines = self._tap.lines
        figures.max_in_flight = self.cloud.max_in_flight
        figures.seconds = self._elapsed(started)


def run_chaos(seed: int, steps: int, **kwargs: Any) -> tuple[Figures, list[Violation]]:
    """Play one seeded run and return its figures and violations."""
    with ChaosRun(seed, steps, **kwargs) as chaos:
        figures = chaos.run()
        return figures, chaos.violations


__all__ = ["ChaosRun", "Figures", "Violation", "run_chaos"]
