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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imsync import bootstrap
from imsync.emulator import Emulator, ManualClock, profile
from imsync.observability import logger
from imsync.retry import Retrier
from imsync.service.claims import RecentCopies
from tests.helpers.events import load_event
from tests.helpers.handlers import accept_shares, replicate_on_create, scheduled_dr_copy, share_on_complete

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
SOURCE_REGIONS = ("cn-north-4", "cn-south-1")
ALLOWED = ("cn-north-4", "cn-east-3", "cn-south-1")  # ap-southeast-1 exists but is never allowed
NOT_EMULATED = "eu-west-101"
TIMEOUT = 0.3  # IMSYNC_HTTP_TIMEOUT: short, so that delayed answers cost little real time
DELAY = 0.45  # an injected delay, past the timeout
MAX_IN_FLIGHT = 5
MAX_TAGS = 10  # IMS (strict reading): a source this full has no room to note a copy in flight
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
    tolerated_duplicates: set[tuple[str, str]] = field(default_factory=set)
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


def _fast_retrier(*args: Any, **kwargs: Any) -> Retrier:
    # The backoff schedule stays imsync's; only the sleeping is shortened so a soak is not mostly waiting.
    kwargs.setdefault("sleep", lambda seconds: time.sleep(min(seconds, 2.0) * 0.02))
    return Retrier(*args, **kwargs)


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
        self._ever_full: set[str] = set()  # sources seen with IMS's 10 tags (no room to note a copy in flight)

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
        self.partner = PartnerContext(cloud.recipient.ak, cloud.recipient.sk)
        for key, value in env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._secrets = [a.sk for a in cloud.accounts.values()] + [a.ak for a in cloud.accounts.values()]
        self._saved_claims, bootstrap.claims = bootstrap.claims, RecentCopies()
        self._saved_retrier = bootstrap.Retrier
        bootstrap.Retrier = _fast_retrier  # type: ignore[assignment,misc]
        # Waiting for a member job lets the emulated cloud's time pass, not the soak's.
        self._saved_pause, bootstrap.pause = bootstrap.pause, cloud.clock.advance
        # Copy notes and stuck copies are timed by the emulated cloud's clock, which the steps move.
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
        bootstrap.Retrier = self._saved_retrier  # type: ignore[misc]
        bootstrap.pause = self._saved_pause
        bootstrap.wall_clock = self._saved_wall_clock
        bootstrap.claims = self._saved_claims
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
        return tags

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

    # ---- the schedule ------------------------------------------------------------------------

    def run(self) -> Figures:
        started = time.monotonic()
        kinds = ["event", "dr", "poll", "completion", "accept", "concurrent", "advance", "mutate"]
        weights = [34, 8, 8, 6, 5, 10, 24, 10]
        for step in range(1, self.steps + 1):
            self.step = step
            kind = self.rng.choices(kinds, weights)[0]
            self.figures.step_kinds[kind] += 1
            getattr(self, f"_step_{kind}")()
            self._deliver_due()
            self.check_safety()
            if self.progress and self.step % 500 == 0:
                self.progress(f"step {self.step}: {len(self.violations)} violations, {self._elapsed(started):.0f} s")
        self.figures.steps = self.steps
        self._converge()
        self._collect(started)
        return self.figures

    @staticmethod
    def _elapsed(started: float) -> float:
        return time.monotonic() - started

    def _call(self, name: str, event: Any) -> dict[str, Any]:
        handler = {
            "replicate_on_create": replicate_on_create,
            "scheduled_dr_copy": scheduled_dr_copy,
            "share_on_complete": share_on_complete,
            "accept_shares": accept_shares,
        }[name]
        answer = handler(event, self.partner if name == "accept_shares" else None)
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
        self._call("accept_shares", load_event(self.rng.choice(["accept_timer", "timer", "scheduler"])))

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
            except BaseException as exc:  # a handler must never raise: that is a finding too
                errors.append(exc)

        workers = [threading.Thread(target=run, args=call) for call in calls]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for exc in errors:
            self._violate("handler", f"a handler raised {type(exc).__name__}: {exc}")

    def _step_advance(self) -> None:
        self.cloud.clock.advance(self.rng.uniform(5, 150))

    def _step_mutate(self) -> None:
        rng, cloud = self.rng, self.cloud
        action = rng.choices(["activate", "retag", "delete_replica", "new_image", "fail_copy"], [4, 3, 2, 2, 1])[0]
        if action == "activate":
            waiting = [i for r in SOURCE_REGIONS for i in cloud.region(r).images() if i.status in ("saving", "queued")]
            waiting = [i for i in waiting if not i.source_id()]
            if waiting:
                rec = rng.choice(waiting)
                cloud.region(rec.region).set_status(rec.id, "active")
        elif action == "retag" and self._sources:
            rec = self._record(rng.choice(self._sources))
            if rec is not None:
                tags = self._random_policy()
                with cloud._lock:
                    for key in [k for k in rec.tags if k.startswith("imsync-") or k.startswith("user-")]:
                        del rec.tags[key]
                    rec.tags.update(tags)
                self._remember_policy(rec.id, tags)
                if rec.region == HOME:
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
                    if len(rec.tags) >= MAX_TAGS:
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
            if count > 1 and cloud.readings.copy_visible_after and source_id in self._ever_full:
                # The documented limit (README, "Copies IMS lists late"): with no free tag on the source, imsync
                # cannot note a copy in flight, so a run within the listing delay may copy again.
                self.figures.tolerated_duplicates.add((source_id, region))
            elif count > 1:
                self._violate("1", f"{count} live replicas of {source_id} in {region}")
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
        for _, event, _ in list(self._pending):
            self._call("replicate_on_create", event)
        self._pending.clear()
        for region in SOURCE_REGIONS:
            for rec in cloud.region(region).images():
                if rec.status in ("saving", "queued") and not rec.source_id():
                    cloud.region(region).set_status(rec.id, "active")
        # A copy answered with a 5xx before IMS acted is noted as asked for: it is asked again once the
        # wait for IMS to list it has passed (IMSYNC_UNLISTED_WAIT_MINUTES, default 30).
        cloud.clock.advance(31 * 60)
        problems: list[str] = []
        for round_no in range(1, self.final_rounds + 1):
            cloud.run_until_idle()
            sweep = self._call("scheduled_dr_copy", load_event("timer"))
            cloud.run_until_idle()
            poll = self._call("share_on_complete", load_event("timer"))
            accepted = self._call("accept_shares", load_event("accept_timer"))
            self.check_safety()
            problems = self.completion_problems([sweep, poll, accepted])
            if not problems:
                self.figures.convergence_rounds = round_no
                self.figures.converged = True
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
        if (rec.id, region) in self.figures.tolerated_duplicates:
            # imsync keeps one of the two (domain/planner.py pick_replica) and reports the other: check that one.
            replicas.sort(key=lambda r: (r.status != "active", r.created_at, r.id))
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
