"""`imsync.toml`: the IMSYNC_* settings in a file, for the command line. Environment variables win.

Each key is the variable's name without `IMSYNC_`, in lower case (`allowed_regions` is
IMSYNC_ALLOWED_REGIONS). Lists become comma-separated values, tables become the JSON the variable
takes, so Settings.from_env() validates file and environment alike. Reading the file needs Python 3.11
(tomllib) or the `tomli` package on 3.10; the environment variables work everywhere.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imsync.config import VARIABLES
from imsync.domain.errors import ConfigError

DEFAULT_FILE = "imsync.toml"
FILE_VARIABLE = "IMSYNC_CONFIG"
KEYS = {name.removeprefix("IMSYNC_").lower(): name for name in VARIABLES}
TABLES = {"share_targets", "vaults"}
LISTS = {"source_regions", "allowed_regions", "accept_regions", "trusted_owners"}
# IMSYNC_* variables read outside the settings table: the file's name, the event bus, the log level, a test switch.
# Read outside config.VARIABLES: the CLI's file, the AWS bus, the log-level alias, and the switches of imsync's own
# test tiers (a developer who runs the tests with them set must not be warned by every command the tests run).
OTHER_VARIABLES = (
    "IMSYNC_CONFIG",
    "IMSYNC_EVENT_BUS",
    "IMSYNC_LOG_LEVEL",
    "IMSYNC_NETWORK_TESTS",
    "IMSYNC_THOROUGH",
    "IMSYNC_HYPOTHESIS_PROFILE",
)


def _load_toml(text: str, path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        decode_error: type[Exception] = tomllib.TOMLDecodeError
        loads = tomllib.loads
    else:  # pragma: no cover - exercised on 3.10 only
        try:
            import tomli
        except ImportError:
            raise ConfigError(
                f"{path}: reading imsync.toml needs Python 3.11 or the tomli package; "
                "or set the IMSYNC_* environment variables instead"
            ) from None
        decode_error, loads = tomli.TOMLDecodeError, tomli.loads
    try:
        return dict(loads(text))
    except decode_error as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _value(path: Path, key: str, value: Any) -> str:
    where = f"{path}: {key}"
    if key in TABLES:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, e.g. [{key}.<name>]")
        return json.dumps(value)
    if key in LISTS:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        if key == "trusted_owners":
            raise ConfigError(f'{where}: expected a list of project IDs, e.g. ["0123456789abcdef0123456789abcdef"]')
        raise ConfigError(f'{where}: expected a list of region IDs, e.g. ["cn-east-3", "ap-southeast-1"]')
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ConfigError(f"{where}: expected a string, number or true/false")


def read_settings_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The IMSYNC_* variables that the file sets (ConfigError naming the file and key when it is wrong)."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{file}: the settings file does not exist; check --config or IMSYNC_CONFIG") from None
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the settings file ({exc.strerror})") from None
    data = _load_toml(text, file)
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(f"{file}: unknown key '{key}'; known keys: {known}")
        values[KEYS[key]] = _value(file, key, value)
    return values


def find_settings_file(explicit: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    """--config, else IMSYNC_CONFIG, else ./imsync.toml when it exists."""
    env = os.environ if env is None else env
    chosen = explicit or env.get(FILE_VARIABLE, "").strip()
    if chosen:
        return Path(chosen)
    default = Path(DEFAULT_FILE)
    return default if default.is_file() else None


def set_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The environment without the IMSYNC_* variables that are set but empty: those count as unset.

    `IMSYNC_AGENCY=` in a shell must not hide the file's agency and then read as "not set".
    """
    return {k: v for k, v in env.items() if not (k.startswith("IMSYNC_") and not v.strip())}


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A line per IMSYNC_* variable imsync does not read (a misspelling), naming the closest known one."""
    known = [*VARIABLES, *OTHER_VARIABLES]
    lines = []
    for name in sorted(n for n in env if n.startswith("IMSYNC_") and n not in known):
        # Compared without the prefix they all share, so that only the part that differs counts.
        close = difflib.get_close_matches(name.removeprefix("IMSYNC_"), [k.removeprefix("IMSYNC_") for k in known], 1)
        hint = (
            f"; did you mean IMSYNC_{close[0]}?"
            if close
            else " (no setting has a similar name: see the README's table)"
        )
        lines.append(f"{name} is not an imsync setting and is ignored{hint}")
    return lines


def merged_environment(explicit: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The file's settings overlaid by the environment (environment variables win)."""
    return file_and_environment(explicit, env)[0]


def file_and_environment(
    explicit: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The merged settings, and where each variable the file supplied came from ("FILE: key")."""
    env = set_variables(os.environ if env is None else env)
    path = find_settings_file(explicit, env)
    if path is None:
        return env, {}
    from_file = read_settings_file(path)
    origins = {name: f"{path}: key {name.removeprefix('IMSYNC_').lower()}" for name in from_file if name not in env}
    return {**from_file, **env}, origins


def located(error: ConfigError, origins: Mapping[str, str]) -> ConfigError:
    """The error, naming the file and key when the variable it names came from the settings file."""
    message = str(error)
    variable = message.split(":", 1)[0]
    if variable in origins:
        return ConfigError(f"{origins[variable]} ({message})")
    return error
