"""Settings.from_env(): the IMSYNC_* environment, typed and validated; a ConfigError names the bad variable."""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from imsync.domain.errors import ConfigError
from imsync.domain.model import STRICT_TAGS, TAG_RULES, image_name

# Every pattern is ASCII-only and ends in \Z: `$` also matches before a trailing newline, and `\d` or int()
# take any script's digits ("cn-north-\u0664", "\u0665"), so "partner\n" or a foreign digit would pass and
# then never match what IMS shows.
REGION_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+\Z")
PROJECT_ID = re.compile(r"^[0-9a-f]{32}\Z")
# urn:smn:<region>:<project ID>:<topic name>; SMN topic names are 1-255 letters, digits, '-' and '_'.
SMN_TOPIC_URN = re.compile(
    r"^urn:smn:(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+):[0-9a-f]{32}:[A-Za-z0-9][A-Za-z0-9_-]{0,254}\Z"
)
ALIAS = re.compile(r"^[A-Za-z0-9.-]{1,43}\Z")  # an alias must fit in a tag value and contain no separator
# [Terraform provider, huaweicloud_identity_agency] a name of 1-64 characters; imsync takes the ASCII ones.
AGENCY = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
# [Terraform provider, CBR vault] vault IDs are UUIDs; letters, digits, '-' and '_', at most 64.
VAULT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
# [AWS Secrets Manager] a secret's name (1-512 of letters, digits and /_+=.@-) or its ARN.
SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@:-]{1,2048}\Z")
# [AWS EventBridge] a bus name (1-256 of letters, digits and /._-) or its ARN. Read by bootstrap.notifier.
EVENT_BUS = re.compile(
    r"^(arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/)?[A-Za-z0-9/._-]{1,256}\Z",
)
WHOLE_NUMBER = re.compile(r"^[0-9]{1,6}\Z")
DECIMAL = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9})?\Z")  # no sign, exponent, nan or inf
MAX_JSON = 65536  # characters of a JSON setting (FunctionGraph allows 4 KB of variables in all)
MAX_TEMPLATE = 256
MAX_ITEMS = 200  # regions, trusted owners, aliases, or projects per alias and region, in one setting
MAX_IMS_CONCURRENT_COPIES = 5
MAX_ACCEPT_EVERY_SECONDS = 7 * 86400
# The fields README "Replica names" documents; nothing else, and no format spec or conversion.
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
    "IMSYNC_TAG_RULES",
    "IMSYNC_COPY_WINDOWS",
    "IMSYNC_UNLISTED_WAIT_MINUTES",
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
    event_bus: str | None = None  # AWS only: the EventBridge bus notifications go to when no SMN topic is set
    stuck_after_hours: float = 12.0
    accept_every_seconds: float = 300.0  # how often accept_shares runs: each run announces the shares of its interval
    tag_rules: str = STRICT_TAGS.name  # which of IMS's two tag pages the cloud applies (domain/model.py TAG_RULES)
    copy_windows: bool = False  # ask IMS to copy Windows images (its copy page says it no longer does)
    unlisted_wait_minutes: int = 30  # how long a copy asked for is waited for while IMS does not list it
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
            agency=_name(env, "IMSYNC_AGENCY", AGENCY, "an IAM agency name (1-64 letters, digits, '_', '.', '-')"),
            share_targets=_share_targets(env),
            vaults=_vaults(env),
            max_concurrent_copies=_max_copies(env),
            name_template=_template(env),
            copy_tags=_bool(env, "IMSYNC_COPY_TAGS", True),
            dry_run=_bool(env, "IMSYNC_DRY_RUN", False),
            http_timeout=_number(env, "IMSYNC_HTTP_TIMEOUT", 30.0, "seconds", 0.1, 600),
            credentials_secret=_name(
                env, "IMSYNC_CREDENTIALS_SECRET", SECRET_NAME, "a Secrets Manager secret name or ARN"
            ),
            share_wait_seconds=_number(env, "IMSYNC_SHARE_WAIT_SECONDS", 30.0, "seconds", 0, 600),
            log_level=log_level(env),
            trusted_owners=_trusted_owners(env),
            accept_regions=_regions(env, "IMSYNC_ACCEPT_REGIONS") or ((home,) if home else ()),
            smn_topic_urn=_topic_urn(env),
            event_bus=event_bus(env),
            stuck_after_hours=_number(env, "IMSYNC_STUCK_AFTER_HOURS", 12.0, "hours", 0.1, 720),
            accept_every_seconds=_accept_every(env),
            tag_rules=_tag_rules(env),
            copy_windows=_bool(env, "IMSYNC_COPY_WINDOWS", False),
            unlisted_wait_minutes=_unlisted_wait(env),
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


def shape(value: str) -> str:
    """A value described without being shown: its length and kinds of characters (it may be a pasted secret).

    Errors about a setting never echo the value: "a 40-character value of letters and digits" says enough to
    find the mistake, and nothing a log reader could use.
    """
    if not value:
        return "an empty value"
    kinds = []
    if any(c.isascii() and c.isalpha() for c in value):
        lower, upper = any("a" <= c <= "z" for c in value), any("A" <= c <= "Z" for c in value)
        kinds.append("letters" if lower and upper else "lowercase letters" if lower else "capital letters")
    if any("0" <= c <= "9" for c in value):
        kinds.append("digits")
    if any(c.isascii() and not c.isalnum() and c.isprintable() and c != " " for c in value):
        kinds.append("punctuation")
    if " " in value:
        kinds.append("spaces")
    if any(not c.isprintable() for c in value):
        kinds.append("line breaks or other control characters")
    foreign = next((i for i, c in enumerate(value) if not c.isascii() and c.isprintable()), None)
    if foreign is not None:
        kinds.append(f"non-ASCII characters (the first, U+{ord(value[foreign]):04X}, at position {foreign + 1})")
    described = ", ".join(kinds[:-1]) + (" and " if len(kinds) > 1 else "") + kinds[-1]
    return f"a {len(value)}-character value of {described}"


def _json(env: Mapping[str, str], name: str) -> object:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    if len(raw) > MAX_JSON:
        raise ConfigError(f"{name}: {len(raw)} characters of JSON; at most {MAX_JSON} are read")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ConfigError(f"{name}: the JSON is nested too deeply; it takes an object of objects and lists") from None


def _region(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if value and not REGION_ID.match(value):
        raise ConfigError(f"{name}: {shape(value)} is not a region ID like cn-north-4 (ASCII letters and digits)")
    return value or None


def _list(env: Mapping[str, str], name: str) -> list[str]:
    items = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    if len(items) > MAX_ITEMS:
        raise ConfigError(f"{name}: {len(items)} items; at most {MAX_ITEMS}")
    return items


def _regions(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = _list(env, name)
    bad = [(n, r) for n, r in enumerate(items, 1) if not REGION_ID.match(r)]
    if bad:
        n, value = bad[0]
        raise ConfigError(
            f"{name}: item {n} ({shape(value)}) is not a region ID like cn-north-4; give region IDs separated by commas"
        )
    return tuple(dict.fromkeys(items))


def _name(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = env.get(name, "").strip()
    if value and not pattern.match(value):
        raise ConfigError(f"{name}: {shape(value)} is not {what}")
    return value or None


def _share_targets(env: Mapping[str, str]) -> ShareTargets:
    name = "IMSYNC_SHARE_TARGETS"
    data = _json(env, name)
    expected = 'expected {"alias": {"region": ["project_id", ...]}}'
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: {expected}")
    if len(data) > MAX_ITEMS:
        raise ConfigError(f"{name}: {len(data)} aliases; at most {MAX_ITEMS}")
    targets: dict[str, dict[str, tuple[str, ...]]] = {}
    for alias, regions in data.items():
        if not ALIAS.match(alias):
            raise ConfigError(
                f"{name}: an alias ({shape(alias)}) must be 1-43 letters, digits, '-' or '.' "
                "(no '_': it separates items; no spaces or line breaks)"
            )
        if not isinstance(regions, dict):
            raise ConfigError(f"{name}: alias '{alias}': {expected}")
        if len(regions) > MAX_ITEMS:
            raise ConfigError(f"{name}: alias '{alias}': {len(regions)} regions; at most {MAX_ITEMS}")
        targets[alias] = {}
        for region, projects in regions.items():
            if not REGION_ID.match(str(region)):
                raise ConfigError(f"{name}: alias '{alias}': {shape(str(region))} is not a region ID like cn-north-4")
            if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
                raise ConfigError(f"{name}: alias '{alias}', region {region}: expected a list of project IDs")
            if len(projects) > MAX_ITEMS:
                raise ConfigError(
                    f"{name}: alias '{alias}', region {region}: {len(projects)} projects; at most {MAX_ITEMS}"
                )
            bad = [(n, p) for n, p in enumerate(projects, 1) if not PROJECT_ID.match(p)]
            if bad:
                n, value = bad[0]
                raise ConfigError(
                    f"{name}: alias '{alias}', region {region}: project {n} ({shape(value)}) is not a project ID "
                    "(32 lowercase hex characters, as IAM shows it)"
                )
            targets[alias][region] = tuple(dict.fromkeys(projects))
    return targets


def _vaults(env: Mapping[str, str]) -> Mapping[str, str]:
    name = "IMSYNC_VAULTS"
    data = _json(env, name)
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise ConfigError(f'{name}: expected {{"region": "vault_id"}}')
    if len(data) > MAX_ITEMS:
        raise ConfigError(f"{name}: {len(data)} regions; at most {MAX_ITEMS}")
    for region, vault in data.items():
        if not REGION_ID.match(region):
            raise ConfigError(f"{name}: {shape(region)} is not a region ID like cn-north-4")
        if not VAULT_ID.match(vault):
            raise ConfigError(f"{name}: region {region}: {shape(vault)} is not a CBR vault ID")
    return dict(data)


def _max_copies(env: Mapping[str, str]) -> int:
    name = "IMSYNC_MAX_CONCURRENT_COPIES"
    raw = env.get(name, "").strip() or str(MAX_IMS_CONCURRENT_COPIES)
    if not WHOLE_NUMBER.match(raw):
        raise ConfigError(f"{name}: {shape(raw)} is not a whole number (ASCII digits)")
    value = int(raw)
    if not 1 <= value <= MAX_IMS_CONCURRENT_COPIES:
        raise ConfigError(f"{name}: must be 1 to {MAX_IMS_CONCURRENT_COPIES} (IMS runs at most 5 copies per user)")
    return value


MAX_UNLISTED_WAIT_MINUTES = 1440


def _unlisted_wait(env: Mapping[str, str]) -> int:
    """Minutes a copy that was asked for is not asked again while IMS does not list it (0: the listing decides)."""
    name = "IMSYNC_UNLISTED_WAIT_MINUTES"
    raw = env.get(name, "").strip() or "30"
    if not WHOLE_NUMBER.match(raw) or int(raw) > MAX_UNLISTED_WAIT_MINUTES:
        raise ConfigError(
            f"{name}: expected a whole number of minutes from 0 to {MAX_UNLISTED_WAIT_MINUTES} ({shape(raw)} "
            "given): how long IMS may take to list a copy it accepted; 0 if it lists copies at once"
        )
    return int(raw)


def _template(env: Mapping[str, str]) -> str:
    name = "IMSYNC_NAME_TEMPLATE"
    template = env.get(name, "").strip() or "copy_{source_region}_{source_name}"
    known = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
    if len(template) > MAX_TEMPLATE:
        raise ConfigError(f"{name}: {len(template)} characters; at most {MAX_TEMPLATE} (a name has at most 128)")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc} (write {{{{ and }}}} for a brace); use the fields {known}") from None
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in TEMPLATE_FIELDS:
            # A field's name is shown only when it looks like a mistyped field, never a pasted value.
            shown = f"{{{field_name}}}" if re.fullmatch(r"[a-z_]{1,30}", field_name) else f"({shape(field_name)})"
            raise ConfigError(f"{name}: unknown field {shown}; use {known}")
        if spec or conversion:
            # {source_name:>999999999} would build a name of a billion characters before it is cut to 128.
            raise ConfigError(
                f"{name}: {{{field_name}}} has a format spec or conversion; use plain fields like {known}"
            )
    return template


def _tag_rules(env: Mapping[str, str]) -> str:
    value = env.get("IMSYNC_TAG_RULES", "").strip().lower() or STRICT_TAGS.name
    if value not in TAG_RULES:
        raise ConfigError(
            f"IMSYNC_TAG_RULES: {shape(value)} is not one of {', '.join(TAG_RULES)}; use strict (IMS's international "
            "API reference) unless IMS accepts the newer tag page's keys with '.' and spaces in your cloud"
        )
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return default if value == "" else False
    raise ConfigError(f"{name}: {shape(raw)} is not true or false (true, false, yes, no, on, off, 1 or 0)")


def event_bus(env: Mapping[str, str] | None = None) -> str | None:
    """IMSYNC_EVENT_BUS (AWS only: where notifications go when no SMN topic is set), checked; None when unset."""
    return _name(os.environ if env is None else env, "IMSYNC_EVENT_BUS", EVENT_BUS, "an EventBridge bus name or ARN")


def log_level(env: Mapping[str, str] | None = None) -> str:
    """POWERTOOLS_LOG_LEVEL (powertools' own variable), else its alias IMSYNC_LOG_LEVEL, else INFO."""
    env = os.environ if env is None else env
    for name in ("POWERTOOLS_LOG_LEVEL", "IMSYNC_LOG_LEVEL"):
        raw = env.get(name, "").strip()
        if raw:
            if raw.upper() not in LOG_LEVELS:
                raise ConfigError(f"{name}: {shape(raw)} is not a log level; use one of {', '.join(LOG_LEVELS)}")
            return raw.upper()
    return "INFO"


def _trusted_owners(env: Mapping[str, str]) -> frozenset[str]:
    name = "IMSYNC_TRUSTED_OWNERS"
    items = _list(env, name)
    bad = [(n, p) for n, p in enumerate(items, 1) if not PROJECT_ID.match(p)]
    if bad:
        n, value = bad[0]
        raise ConfigError(
            f"{name}: item {n} ({shape(value)}) is not a project ID (32 lowercase hex characters: the owner IMS "
            "shows on a shared image)"
        )
    return frozenset(items)


def _topic_urn(env: Mapping[str, str]) -> str | None:
    name = "IMSYNC_SMN_TOPIC_URN"
    value = env.get(name, "").strip()
    if value and not SMN_TOPIC_URN.match(value):
        raise ConfigError(
            f"{name}: {shape(value)} is not an SMN topic URN like urn:smn:<region>:<project ID>:<topic name>; "
            "copy it from the SMN console or the Terraform output, or unset it to log notifications"
        )
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, unit: str, lowest: float, highest: float) -> float:
    """A decimal number setting within [lowest, highest]; ConfigError names the variable and the rule."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    rule = f"from {lowest:g} to {highest:g} {unit}"
    if not DECIMAL.match(raw):  # float() also takes 1e-300, nan, inf and other scripts' digits
        raise ConfigError(f"{name}: {shape(raw)} is not a number of {unit} (ASCII digits, like 30 or 1.5): {rule}")
    value = float(raw)
    if not lowest <= value <= highest:
        raise ConfigError(f"{name}: must be {rule}")
    return value


_RATE = re.compile(r"^(?P<n>[1-9][0-9]{0,5}) ?(?P<unit>m|h|d)\Z")
_AWS_RATE = re.compile(r"^rate\((?P<n>[1-9][0-9]{0,5}) (?P<unit>minute|minutes|hour|hours|day|days)\)\Z")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def _accept_every(env: Mapping[str, str]) -> float:
    """accept_shares's timer rate in seconds: FunctionGraph's "5m"/"1h"/"1d" or AWS's "rate(5 minutes)"."""
    name = "IMSYNC_ACCEPT_SCHEDULE"
    raw = env.get(name, "").strip() or "5m"
    match = _RATE.match(raw) or _AWS_RATE.match(raw)
    if not match:
        raise ConfigError(
            f"{name}: {shape(raw)} is not a rate like 5m, 1h, 1d or rate(5 minutes): set it to the rate "
            "accept_shares runs at (a cron expression has no fixed interval), so that each untrusted share is "
            "announced by one run"
        )
    seconds = int(match["n"]) * _UNIT_SECONDS[match["unit"][0]]
    if seconds > MAX_ACCEPT_EVERY_SECONDS:
        raise ConfigError(f"{name}: at most every 7 days (a share waits for a person meanwhile)")
    return seconds


def _retain(env: Mapping[str, str]) -> str:
    value = env.get("IMSYNC_RETAIN", "").strip().lower() or "keep"
    if value not in ("keep", "follow"):
        raise ConfigError(
            f"IMSYNC_RETAIN: {shape(value)} is not keep or follow; keep (the default) never deletes a replica, "
            "follow deletes a replica after the grace period once its source is gone"
        )
    return value


def _grace_days(env: Mapping[str, str]) -> int:
    raw = env.get("IMSYNC_RETAIN_GRACE_DAYS", "").strip()
    if not raw:
        return 7
    if not WHOLE_NUMBER.match(raw) or int(raw) > 3650:
        raise ConfigError(
            f"IMSYNC_RETAIN_GRACE_DAYS: {shape(raw)} is not a whole number of days from 0 to 3650 "
            "(0: the DR run after the one that first saw the replica orphaned)"
        )
    return int(raw)
