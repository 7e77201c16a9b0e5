"""The emulated cloud: accounts, regions, images, copy jobs, agencies, and the HTTP servers."""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable, Mapping

from .clock import Clock, ManualClock
from .faults import Faults
from .model import GB, Account, Agency, Credential, ImageRecord, Job, RequestRecord, new_ak, new_hex32, new_sk
from .readings import Readings
from .region import Region
from .smn import Smn

DEFAULT_REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DEFAULT_AGENCY_ROLES = ("IMS Administrator",)


def env_region_key(region: str) -> str:
    return region.upper().replace("-", "_")


class Emulator:
    """The local Huawei Cloud IMS/IAM emulator; starts its HTTP servers at once, stops on close()."""

    def __init__(
        self,
        regions: Iterable[str] = DEFAULT_REGIONS,
        clock: Clock | None = None,
        agency: str | None = "imsync-copy",
        image_quota: int = 50,
        max_copies_in_flight: int = 5,
        copy_base_seconds: float = 60.0,
        copy_seconds_per_gb: float = 2.0,
        host: str = "127.0.0.1",
        start: bool = True,
        readings: Readings | None = None,
        port: int = 0,
    ) -> None:
        self.regions: tuple[str, ...] = tuple(regions)
        self.readings = readings or Readings()
        if not self.regions:
            raise ValueError("at least one region is needed")
        self.clock: Clock = clock if clock is not None else ManualClock()
        self.image_quota = image_quota
        self.max_copies_in_flight = max_copies_in_flight
        self.copy_base_seconds = copy_base_seconds
        self.copy_seconds_per_gb = copy_seconds_per_gb
        self.host = host
        self.port = port  # IAM's port, the regions' the ones after it; 0: free ports
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.arrivals = 0  # requests that arrived so far, answered or not yet
        self.counters: collections.Counter[str] = collections.Counter()
        self.max_in_flight = 0
        self._lock = threading.RLock()
        self._unanswered = 0  # requests that arrived and whose handling has not ended (a held one among them)
        self._answered = threading.Condition(self._lock)
        self._seq = 0
        self._accounts: dict[str, Account] = {}
        self._credentials: dict[str, Credential] = {}
        self._images: dict[str, ImageRecord] = {}
        self._jobs: dict[str, Job] = {}
        self._agencies: dict[str, Agency] = {}
        self._next_copy_failure: tuple[str, str] | None = None
        self._member_job_failures: list[tuple[str, str]] = []
        self._partly_failed: set[tuple[str, str]] = set()  # (image, project) items a partial member job failed
        self._endpoints: dict[str, str] = {}
        self._servers: list = []
        self.owner = self.add_account("owner")
        self.recipient = self.add_account("partner")
        self.smn = Smn(self)
        if agency:
            self.set_agency(agency)
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Start one HTTP server per region plus one for IAM (no-op when already running)."""
        from .server import start_server

        if self._servers:
            return self
        try:
            for number, region in enumerate(self.regions, start=1):
                srv = start_server(self, region, self.host, self.port + number if self.port else 0)
                self._servers.append(srv)
                self._endpoints[region] = f"http://{self.host}:{srv.server_address[1]}"
            srv = start_server(self, "iam", self.host, self.port)
        except OSError:
            self.close()  # a fixed port is taken: release the ones already bound
            raise
        self._servers.append(srv)
        self._endpoints["iam"] = f"http://{self.host}:{srv.server_address[1]}"
        return self

    def close(self) -> None:
        """Stop every server and release its port."""
        servers, self._servers = self._servers, []
        for srv in servers:
            srv.stop()

    stop = close

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts and credentials ---------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """The SDK environment variables that point at this emulator with the owner's keys."""
        if not self._servers:
            raise RuntimeError("the emulator is not running")
        env = {
            "HUAWEICLOUD_SDK_AK": self.owner.ak,
            "HUAWEICLOUD_SDK_SK": self.owner.sk,
            "HUAWEICLOUD_SDK_DOMAIN_ID": self.owner.domain_id,
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": self._endpoints["iam"],
        }
        for region in self.regions:
            key = env_region_key(region)
            env[f"HUAWEICLOUD_SDK_REGION_IMS_{key}"] = self._endpoints[region]
            env[f"HUAWEICLOUD_SDK_REGION_IAM_{key}"] = self._endpoints["iam"]
            env[f"HUAWEICLOUD_SDK_REGION_SMN_{key}"] = self._endpoints[region]  # SMN publish is served there too
        return env

    @property
    def endpoints(self) -> dict[str, str]:
        """Region id (and "iam") -> http://127.0.0.1:PORT."""
        return dict(self._endpoints)

    @property
    def accounts(self) -> dict[str, Account]:
        with self._lock:
            return dict(self._accounts)

    def account(self, name: str) -> Account:
        with self._lock:
            return self._accounts[name]

    def add_account(
        self,
        name: str,
        domain_id: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        projects: Mapping[str, str] | None = None,
    ) -> Account:
        """Create an account with keys and one project per region (ids may be fixed by the caller)."""
        with self._lock:
            if name in self._accounts:
                raise ValueError(f"account {name!r} exists")
            projects = dict(projects or {})
            acc = Account(
                name=name,
                domain_id=domain_id or new_hex32(),
                ak=ak or new_ak(),
                sk=sk or new_sk(),
                projects={r: projects.get(r) or new_hex32() for r in self.regions},
            )
            if acc.ak in self._credentials:
                raise ValueError("access key already in use")
            self._accounts[name] = acc
            self._credentials[acc.ak] = Credential(acc, acc.sk)
            return acc

    def rekey_account(
        self,
        account: Account,
        domain_id: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        projects: Mapping[str, str] | None = None,
    ) -> Account:
        """Give an existing account fixed ids or keys (used by seeds for reproducible environments)."""
        with self._lock:
            self._credentials.pop(account.ak, None)
            if domain_id:
                account.domain_id = domain_id
            if ak:
                account.ak = ak
            if sk:
                account.sk = sk
            for region, pid in (projects or {}).items():
                if region in account.projects:
                    account.projects[region] = pid
            self._credentials[account.ak] = Credential(account, account.sk)
            return account

    def temporary_credentials(
        self, account: Account | None = None, duration_seconds: float = 3600.0
    ) -> tuple[str, str, str]:
        """(ak, sk, security_token) for `account` (default owner), valid `duration_seconds` of clock."""
        acc = account or self.owner
        with self._lock:
            ak, sk, token = new_ak(), new_sk(), "tok-" + new_sk() + new_sk()
            self._credentials[ak] = Credential(acc, sk, token, self.clock.now() + duration_seconds)
            return ak, sk, token

    def project_owner(self, project_id: str) -> tuple[Account, str] | None:
        """(account, region) of a project id, or None."""
        with self._lock:
            for acc in self._accounts.values():
                region = acc.project_region(project_id)
                if region:
                    return acc, region
        return None

    # -- agencies --------------------------------------------------------------------------------
    def set_agency(
        self,
        name: str,
        grants: Mapping[str, Iterable[str]] | None = None,
        all_projects: bool = False,
        account: Account | None = None,
    ) -> Agency:
        """Create or replace an agency; default grant: "IMS Administrator" in every region's project.

        `all_projects=True` grants the roles on "all projects" instead of per project, which the
        console allows but which does not let IMS copy (IMS user guide, cross-region copies: the agency is
        then ineffective).
        """
        acc = account or self.owner
        with self._lock:
            if grants is None:
                grants = {r: list(DEFAULT_AGENCY_ROLES) for r in self.regions}
            existing = self._agency_by_name(acc, name)
            agency = existing or Agency(id=new_hex32(), name=name, account=acc, created_ts=self.clock.now())
            agency.grants = {}
            agency.all_projects = []
            if all_projects:
                agency.all_projects = sorted({role for roles in grants.values() for role in roles})
            else:
                for region, roles in grants.items():
                    if region not in acc.projects:
                        raise ValueError(f"unknown region {region!r}")
                    agency.grants[acc.projects[region]] = list(roles)
            self._agencies[agency.id] = agency
            return agency

    def remove_agency(self, name: str, account: Account | None = None) -> None:
        """Delete an agency (copies then fail, see docs/emulator.md)."""
        acc = account or self.owner
        with self._lock:
            agency = self._agency_by_name(acc, name)
            if agency is not None:
                del self._agencies[agency.id]

    def _agency_by_name(self, account: Account, name: str) -> Agency | None:
        for agency in self._agencies.values():
            if agency.account is account and agency.name == name:
                return agency
        return None

    def agencies(self, account: Account | None = None) -> list[Agency]:
        acc = account or self.owner
        with self._lock:
            return [a for a in self._agencies.values() if a.account is acc]

    # -- regions, jobs, clock --------------------------------------------------------------------
    def region(self, name: str) -> Region:
        """In-process handle on one region."""
        if name not in self.regions:
            raise KeyError(f"region {name!r} is not emulated (regions: {', '.join(self.regions)})")
        return Region(self, name)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def fail_next_copy(self, code: str = "IMG.0100", reason: str = "Internal error while copying the image") -> None:
        """The next accepted cross-region copy ends FAIL with this code; its replica is killed."""
        with self._lock:
            self._next_copy_failure = (code, reason)

    def fail_next_member_jobs(
        self, count: int = 1, code: str = "IMG.0088", reason: str = "Failed to add image members"
    ) -> None:
        """The next `count` member jobs end FAIL with this code; their projects are not added."""
        with self._lock:
            self._member_job_failures.extend([(code, reason)] * count)

    def copy_duration(self, size_bytes: int) -> float:
        """Seconds a copy of this size takes: base + per-GB (both configurable)."""
        return self.copy_base_seconds + self.copy_seconds_per_gb * size_bytes / GB

    def _tick(self) -> None:
        """Move every copy job and replica to the state the clock says (call with the lock held)."""
        now = self.clock.now()
        for job in self._jobs.values():
            if job.finished:
                continue
            if job.is_member:
                self._tick_member_job(job, now)
                continue
            if not job.is_copy:
                continue
            replica = self._images.get(job.replica_id)
            if now >= job.end_ts:
                job.finished_ts = job.end_ts
                if job.fail_code:
                    job.status = "FAIL"
                    new_status = "killed"
                else:
                    job.status = "SUCCESS"
                    new_status = "active"
            elif now >= job.init_until:
                job.status = "RUNNING"
                new_status = "saving"
            else:
                continue
            if replica is not None and replica.status in ("queued", "saving") and replica.status != new_status:
                replica.status = new_status
                replica.updated_ts = min(now, job.end_ts) if job.finished else now

    def _tick_member_job(self, job: Job, now: float) -> None:
        # [IMS API reference, "Adding image members"]: the projects are added by the job, not by the request.
        if now < job.end_ts:
            job.status = "RUNNING" if now >= job.init_until else "INIT"
            return
        job.finished_ts = job.end_ts
        if not job.fail_code and self.readings.member_add_existing == "fails":
            job.member_failed += [
                (image_id, pid)
                for image_id in job.member_images
                if (rec := self._images.get(image_id)) is not None and not rec.deleted
                for pid in job.member_projects
                if pid in rec.members and (image_id, pid) not in job.member_failed
            ]
            pairs = len(job.member_images) * len(job.member_projects)
            if job.member_failed and len(set(job.member_failed)) == pairs:
                image_id, pid = job.member_failed[0]
                job.fail_code, job.fail_reason = "IMG.0088", f"project {pid} is already a member of image {image_id}"
        if job.fail_code:
            job.status = "FAIL"
            return
        job.status = "SUCCESS"
        for image_id in job.member_images:
            rec = self._images.get(image_id)
            if rec is None or rec.deleted:
                continue
            for pid in job.member_projects:
                if pid not in rec.members and (image_id, pid) not in job.member_failed:
                    rec.members[pid] = "pending"
                    rec.member_times[pid] = (job.end_ts, job.end_ts)

    def jobs(self) -> list[Job]:
        with self._lock:
            self._tick()
            return list(self._jobs.values())

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            self._tick()
            return self._jobs.get(job_id)

    def in_flight(self, account: Account | None = None) -> list[Job]:
        """Copy jobs of `account` (default owner) that have not finished."""
        acc = account or self.owner
        with self._lock:
            self._tick()
            return [j for j in self._jobs.values() if j.is_copy and j.account is acc and not j.finished]

    def run_until_idle(self, max_seconds: float = 7 * 24 * 3600.0) -> float:
        """Advance the clock event by event until no copy job of any account is running.

        Returns the emulated seconds advanced; raises TimeoutError past `max_seconds`.
        """
        advanced = 0.0
        while True:
            with self._lock:
                self._tick()
                now = self.clock.now()
                pending = [j for j in self._jobs.values() if (j.is_copy or j.is_member) and not j.finished]
                if not pending:
                    return advanced
                nxt = min((j.init_until if j.init_until > now else j.end_ts) for j in pending)
            step = max(nxt - now, 0.0) + 1e-3
            if advanced + step > max_seconds:
                raise TimeoutError(f"copy jobs still running after {max_seconds} emulated seconds")
            self.clock.advance(step)
            advanced += step

    # -- request log -----------------------------------------------------------------------------
    def _record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.requests.append(rec)
            self.counters[rec.operation] += 1

    def arrival(self) -> int:
        """The next request's place in the order of arrival (RequestRecord.arrived); pair it with handled()."""
        with self._lock:
            self.arrivals += 1
            self._unanswered += 1
            return self.arrivals

    def handled(self) -> None:
        """A request's handling ended: answered, refused, dropped, or given up by its client long ago."""
        with self._answered:
            self._unanswered -= 1
            self._answered.notify_all()

    def wait_for_requests(self, timeout: float) -> bool:
        """Wait (real time, at most `timeout` seconds) until no request is being handled; whether none is.

        A request a fault holds past its client's timeout still acts when the hold ends. Whoever moves the clock
        far (a test, the chaos harness) waits for it first, so that IMS acts on it at about the time it arrived,
        as a gateway's backend does, not hours of emulated time later.
        """
        with self._answered:
            return self._answered.wait_for(lambda: self._unanswered == 0, timeout)

    def reset_counters(self) -> None:
        """Empty the request log and the per-operation counters."""
        with self._lock:
            self.requests.clear()
            self.counters.clear()
