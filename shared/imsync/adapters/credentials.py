"""Where the Huawei Cloud keys come from (README, "Configure"), first found wins."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from imsync.domain.errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    """An access key pair, maybe temporary; never printed."""

    ak: str = field(repr=False)
    sk: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    origin: str = ""

    def __str__(self) -> str:
        return f"credentials from {self.origin}"


def _from_context(context: object) -> Credentials | None:
    # FunctionGraph passes the function agency's temporary credentials on the context.
    getters = [getattr(context, n, None) for n in ("getSecurityAccessKey", "getSecuritySecretKey", "getSecurityToken")]
    if not all(callable(g) for g in getters):
        return None
    ak, sk, token = (g() for g in getters)  # type: ignore[misc]
    if ak and sk:
        return Credentials(str(ak), str(sk), str(token) if token else None, "the FunctionGraph agency")
    return None


def _from_env(env: Mapping[str, str]) -> Credentials | None:
    ak, sk = env.get("HUAWEICLOUD_SDK_AK", "").strip(), env.get("HUAWEICLOUD_SDK_SK", "").strip()
    if ak and sk:
        token = env.get("HUAWEICLOUD_SDK_SECURITY_TOKEN", "").strip() or None
        return Credentials(ak, sk, token, "HUAWEICLOUD_SDK_AK/SK")
    if ak or sk:
        raise ConfigError("only one of HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK is set: set both, or neither")
    return None


def resolve_credentials(context: object, secret_name: str | None, env: Mapping[str, str] | None = None) -> Credentials:
    """The first of: FunctionGraph context, SDK environment variables, the AWS secret."""
    env = os.environ if env is None else env
    found = _from_context(context) or _from_env(env)
    if found:
        return found
    if secret_name:
        from imsync.adapters.aws import secret_credentials  # boto3 only where it is used

        ak, sk, token = secret_credentials(secret_name)
        return Credentials(ak, sk, token, f"the AWS secret {secret_name}")
    raise ConfigError(
        "no Huawei Cloud credentials: give the FunctionGraph function an agency, "
        "or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or IMSYNC_CREDENTIALS_SECRET on AWS"
    )
