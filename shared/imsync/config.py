"""Settings.from_env(): the IMSYNC_* environment, typed and validated; a ConfigError names the bad variable."""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from imsync.domain.errors import ConfigError
from imsync.domain.model import image_name

REGION_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
PROJECT_ID = re.compile(r"^[0-9a-f]{32}$")
# urn:smn:<region>:<project ID>:<topic name>; SMN topic names are 1-255 letters, digits, '-' and '_'.
SMN_TOPIC_URN = re.compile(r"^urn:smn:(?P<region>[a-z]{2}(-[a-z]+)+-\d+):[0-9a-f]{32}:[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
ALIAS = re.compile(r"^[A-Za-z0-9.-]{1,43}$")  # an alias must fit in a tag value and contain no separator
MAX_IMS_CONCURRENT_COPIES = 5
TEMPLATE_FIELDS = {"source_region", "source_name", "source_id"}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}

# Every variable Settings reads; deploy templates and tests check that each is wired.
VARIABLES = (
    "IMSYNC_HOME_REGION",
    "IMSYNC_SOURCE_REGIONS",
    "IMSYNC_ALLOWED_REGIONS",
    "IMSYNC_AGENCY",
    "IMSYNC_SHARE_TARGETS",
    "IMSYNC_VAULTS",
    "IMSYNC_MAX_CONCURRENT_COPIES",
    "IMSYNC_NAME_TEMPLATE",
    "IMSYNC_COPY_TAGS",
    "IMSYNC_DRY_RUN",
    "IMSYNC_HTTP_TIMEOUT",
    "IMSYNC_CREDENTIALS_SECRET",
    "IMSYNC_SHARE_WAIT_SECONDS",
    "IMSYNC_TRUSTED_OWNERS",
    "IMSYNC_ACCEPT_REGIONS",
    "IMSYNC_SMN_TOPIC_URN",
    "IMSYNC_STUCK_AFTER_HOURS",
    "IMSYNC_ACCEPT_SCHEDULE",
    "IMSYNC_RETAIN",
    "IMSYNC_RETAIN_GRACE_DAYS",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

ShareTargets = Mapping[str, Mapping[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Settings:
    """Everything a deployment decides, validated once."""

    home_region: str | None = None
    source_regions: tuple[str, ...] = ()
    allowed_regions: frozenset[str] = frozenset()
    agency: str | None = None
    share_targets: ShareTargets = field(default_factory=dict)
    vaults: Mapping[str, str] = field(default_factory=dict)
    max_concurrent_copies: int = MAX_IMS_CONCURRENT_COPIES
    name_template: str = "copy_{source_region}_{source_name}"
    copy_tags: bool = True
    dry_run: bool = False
    http_timeout: float = 30.0
    credentials_secret: str | None = None
    share_wait_seconds: float = 30.0
    log_level: str = "INFO"
    trusted_owners: frozenset[str] = frozenset()
    accept_regions: tuple[str, ...] = ()
    smn_topic_urn: str | None = None
    stuck_after_hours: float = 12.0
    accept_every_seconds: float = 300.0  # how often accept_shares runs: each run announces the shares of its interval
    retain: str = "keep"  # the retention rule of sources without an imsync-retain tag (README, "Retention")
    retain_grace_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every IMSYNC_* variable; raise ConfigError naming the first bad one."""
        env = os.environ if env is None else env
        home = _region(env, "IMSYNC_HOME_REGION")
        sources = _regions(env, "IMSYNC_SOURCE_REGIONS") or ((home,) if home else ())
        return cls(
            home_region=home,
            source_regions=sources,
            allowed_regions=frozenset(_regions(env, "IMSYNC_ALLOWED_REGIONS")),
            agency=env.get("IMSYNC_AGENCY", "").strip() or None,
            share_targets=_share_targets(env),
            vaults=_vaults(env),
            max_concurrent_copies=_max_copies(env),
            name_template=_template(env),
            copy_tags=_bool(env, "IMSYNC_COPY_TAGS", True),
            dry_run=_bool(env, "IMSYNC_DRY_RUN", False),
            http_timeout=_number(
                env, "IMSYNC_HTTP_TIMEOUT", 30.0, "seconds", lambda v: 0 < v <= 600, "between 0 and 600"
            ),
            credentials_secret=env.get("IMSYNC_CREDENTIALS_SECRET", "").strip() or None,
            share_wait_seconds=_number(
                env, "IMSYNC_SHARE_WAIT_SECONDS", 30.0, "seconds", lambda v: 0 <= v <= 600, "0 to 600"
            ),
            log_level=log_level(env),
            trusted_owners=_trusted_owners(env),
            accept_regions=_regions(env, "IMSYNC_ACCEPT_REGIONS") or ((home,) if home else ()),
            smn_topic_urn=_topic_urn(env),
            stuck_after_hours=_number(
                env, "IMSYNC_STUCK_AFTER_HOURS", 12.0, "hours", lambda v: 0 < v < float("inf"), "a positive number of"
            ),
            accept_every_seconds=_accept_every(env),
            retain=_retain(env),
            retain_grace_days=_grace_days(env),
        )

    def require_home_region(self) -> str:
        if not self.home_region:
            raise ConfigError("IMSYNC_HOME_REGION is not set: set it to the region the function runs in")
        return self.home_region

    def share_projects(self, aliases: tuple[str, ...], region: str) -> tuple[str, ...]:
        """Projects that `aliases` name in `region`, sorted, without duplicates."""
        return tuple(sorted({p for a in aliases for p in self.share_targets.get(a, {}).get(region, ())}))

    def replica_name(self, source_region: str, source_name: str, source_id: str) -> str:
        """The template filled in, made a valid IMS image name (README, "Replica names")."""
        text = self.name_template.format(source_region=source_region, source_name=source_name, source_id=source_id)
        return image_name(text, fallback=f"copy_{source_region}_{source_id}")


def _json(env: Mapping[str, str], name: str) -> object:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def _region(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if value and not REGION_ID.match(value):
        raise ConfigError(f"{name}: '{value[:60]}' is not a region ID like cn-north-4")
    return value or None


def _regions(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = [r.strip() for r in env.get(name, "").split(",") if r.strip()]
    bad = [r for r in items if not REGION_ID.match(r)]
    if bad:
        raise ConfigError(f"{name}: {', '.join(repr(b[:60]) for b in bad)} is not a region ID like cn-north-4")
    return tuple(dict.fromkeys(items))


def _share_targets(env: Mapping[str, str]) -> ShareTargets:
    name = "IMSYNC_SHARE_TARGETS"
    data = _json(env, name)
    expected = 'expected {"alias": {"region": ["project_id", ...]}}'
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: {expected}")
    targets: dict[str, dict[str, tuple[str, ...]]] = {}
    for alias, regions in data.items():
        if not ALIAS.match(alias):
            raise ConfigError(
                f"{name}: alias '{alias[:60]}' must be 1-43 letters, digits, '-' or '.' (no '_': it separates items)"
            )
        if not isinstance(regions, dict):
            raise ConfigError(f"{name}: alias '{alias}': {expected}")
        targets[alias] = {}
        for region, projects in regions.items():
            if not REGION_ID.match(str(region)):
                raise ConfigError(f"{name}: alias '{alias}': '{str(region)[:60]}' is not a region ID")
            if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
                raise ConfigError(f"{name}: alias '{alias}', region {region}: expected a list of project IDs")
            bad = [p for p in projects if not PROJECT_ID.match(p)]
            if bad:
                raise ConfigError(
                    f"{name}: alias '{alias}', region {region}: '{bad[0][:60]}' is not a project ID "
                    "(32 lowercase hex characters, as IAM shows it)"
                )
            targets[alias][region] = tuple(dict.fromkeys(projects))
    return targets


def _vaults(env: Mapping[str, str]) -> Mapping[str, str]:
    name = "IMSYNC_VAULTS"
    data = _json(env, name)
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise ConfigError(f'{name}: expected {{"region": "vault_id"}}')
    bad = [r for r in data if not REGION_ID.match(r)]
    if bad:
        raise ConfigError(f"{name}: '{bad[0][:60]}' is not a region ID")
    return dict(data)


def _max_copies(env: Mapping[str, str]) -> int:
    name = "IMSYNC_MAX_CONCURRENT_COPIES"
    raw = env.get(name, "").strip() or str(MAX_IMS_CONCURRENT_COPIES)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: '{raw[:20]}' is not a whole number") from None
    if not 1 <= value <= MAX_IMS_CONCURRENT_COPIES:
        raise ConfigError(f"{name}: must be 1 to {MAX_IMS_CONCURRENT_COPIES} (IMS runs at most 5 copies per user)")
    return value


def _template(env: Mapping[str, str]) -> str:
    name = "IMSYNC_NAME_TEMPLATE"
    template = env.get(name, "").strip() or "copy_{source_region}_{source_name}"
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        known = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
        raise ConfigError(f"{name}: unknown field {{{sorted(unknown)[0]}}}; use {known}")
    try:  # conversions and format specs ({source_name!x}, {source_id:d}) only fail when used
        template.format(source_region="cn-north-4", source_name="golden", source_id="0" * 36)
    except (ValueError, IndexError, KeyError) as exc:
        raise ConfigError(f"{name}: {exc}; use plain fields like {{source_name}}") from None
    return template


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return default if value == "" else False
    raise ConfigError(f"{name}: '{raw[:20]}' is not true or false")


def log_level(env: Mapping[str, str] | None = None) -> str:
    """POWERTOOLS_LOG_LEVEL (powertools' own variable), else its alias IMSYNC_LOG_LEVEL, else INFO."""
    env = os.environ if env is None else env
    for name in ("POWERTOOLS_LOG_LEVEL", "IMSYNC_LOG_LEVEL"):
        raw = env.get(name, "").strip()
        if raw:
            if raw.upper() not in LOG_LEVELS:
                raise ConfigError(f"{name}: '{raw[:20]}' is not a log level; use one of {', '.join(LOG_LEVELS)}")
            return raw.upper()
    return "INFO"


def _trusted_owners(env: Mapping[str, str]) -> frozenset[str]:
    name = "IMSYNC_TRUSTED_OWNERS"
    items = [p.strip() for p in env.get(name, "").split(",") if p.strip()]
    bad = [p for p in items if not PROJECT_ID.match(p)]
    if bad:
        raise ConfigError(
            f"{name}: '{bad[0][:60]}' is not a project ID (32 lowercase hex characters: the owner IMS shows "
            "on a shared image)"
        )
    return frozenset(items)


def _topic_urn(env: Mapping[str, str]) -> str | None:
    name = "IMSYNC_SMN_TOPIC_URN"
    value = env.get(name, "").strip()
    if value and not SMN_TOPIC_URN.match(value):
        raise ConfigError(
            f"{name}: '{value[:100]}' is not an SMN topic URN like urn:smn:<region>:<project ID>:<topic name>; "
            "copy it from the SMN console or the Terraform output, or unset it to log notifications"
        )
    return value or None


def _number(
    env: Mapping[str, str], name: str, default: float, unit: str, valid: Callable[[float], bool], rule: str
) -> float:
    """A number setting; ConfigError names the variable, what it got and the rule."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: '{raw[:20]}' is not a number of {unit}") from None
    if not valid(value):
        raise ConfigError(f"{name}: must be {rule} {unit}")
    return value


_RATE = re.compile(r"^(?P<n>[1-9][0-9]*)\s*(?P<unit>m|h|d)$")
_AWS_RATE = re.compile(r"^rate\((?P<n>[1-9][0-9]*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def _accept_every(env: Mapping[str, str]) -> float:
    """accept_shares's timer rate in seconds: FunctionGraph's "5m"/"1h"/"1d" or AWS's "rate(5 minutes)"."""
    name = "IMSYNC_ACCEPT_SCHEDULE"
    raw = env.get(name, "").strip() or "5m"
    match = _RATE.match(raw) or _AWS_RATE.match(raw)
    if not match:
        raise ConfigError(
            f"{name}: '{raw[:40]}' is not a rate like 5m, 1h, 1d or rate(5 minutes): set it to the rate accept_shares "
            "runs at (a cron expression has no fixed interval), so that each untrusted share is announced by one run"
        )
    return int(match["n"]) * _UNIT_SECONDS[match["unit"][0]]


def _retain(env: Mapping[str, str]) -> str:
    value = env.get("IMSYNC_RETAIN", "").strip().lower() or "keep"
    if value not in ("keep", "follow"):
        raise ConfigError(
            f"IMSYNC_RETAIN: {value[:20]!r} is not keep or follow; keep (the default) never deletes a replica, "
            "follow deletes a replica after the grace period once its source is gone"
        )
    return value


def _grace_days(env: Mapping[str, str]) -> int:
    raw = env.get("IMSYNC_RETAIN_GRACE_DAYS", "").strip()
    if not raw:
        return 7
    if not raw.isdigit() or int(raw) > 3650:
        raise ConfigError(
            f"IMSYNC_RETAIN_GRACE_DAYS: {raw[:20]!r} is not a whole number of days from 0 to 3650 "
            "(0: the DR run after the one that first saw the replica orphaned)"
        )
    return int(raw)
