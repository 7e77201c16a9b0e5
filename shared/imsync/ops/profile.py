"""The Huawei SDK's profile file (~/.huaweicloud/credentials): the command line's last source of keys.

The file is the SDK's own (its ProfileCredentialProvider reads it): INI, a [basic] section (or [global])
with `ak`, `sk` and, for temporary keys, `security_token`. HUAWEICLOUD_SDK_CREDENTIALS_FILE names
another path, as it does for the SDK.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from pathlib import Path

from imsync.adapters.credentials import Credentials
from imsync.domain.errors import ConfigError

FILE_VARIABLE = "HUAWEICLOUD_SDK_CREDENTIALS_FILE"
SECTIONS = ("basic", "global")


def profile_path(env: Mapping[str, str]) -> Path | None:
    """HUAWEICLOUD_SDK_CREDENTIALS_FILE, else $HOME/.huaweicloud/credentials (None without a home)."""
    chosen = env.get(FILE_VARIABLE, "").strip()
    if chosen:
        return Path(chosen)
    home = env.get("HOME", "").strip()
    return Path(home) / ".huaweicloud" / "credentials" if home else None


def profile_credentials(env: Mapping[str, str]) -> Credentials | None:
    """The key pair of the profile file's [basic] (else [global]) section; None when there is no file."""
    path = profile_path(env)
    if path is None or not path.is_file():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable credentials file ({type(exc).__name__})") from None
    for section in SECTIONS:
        if not parser.has_section(section):
            continue
        ak, sk = parser.get(section, "ak", fallback="").strip(), parser.get(section, "sk", fallback="").strip()
        if ak and sk:
            token = parser.get(section, "security_token", fallback="").strip() or None
            return Credentials(ak, sk, token, f"the profile file {path} [{section}]")
        raise ConfigError(f"{path}: section [{section}] needs both ak and sk")
    raise ConfigError(f"{path}: no [basic] or [global] section with ak and sk")
