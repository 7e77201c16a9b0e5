"""When IAM or IMS does not answer: which URL, and what failed (refused, timed out, name, TLS).

The SDK reports a lost connection as an exception without the address. The command line knows the
endpoint it used, so it tries that endpoint once more at the socket level and says what happened; it
never guesses at credentials, which an unanswered request says nothing about.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

PROBE_SECONDS = 5.0
NO_ANSWER_WORDS = ("no answer", "ConnectionException", "RequestTimeoutException", "ConnectionError", "Timeout")


def unanswered(reason: str) -> bool:
    """The error text says the request got no answer (rather than a refusal)."""
    return any(word in reason for word in NO_ANSWER_WORDS)


def ims_endpoint(region: str) -> str:
    """The IMS endpoint the SDK uses for `region` (HUAWEICLOUD_SDK_REGION_IMS_<REGION> wins)."""
    from imsync.adapters.huawei_ims_reads import ims_endpoint as sdk_endpoint

    return sdk_endpoint(region) or f"(no IMS endpoint known for {region})"


def iam_endpoint_of(env: Mapping[str, str] | None, region: str | None) -> str:
    """The IAM endpoint the commands use."""
    from imsync.adapters.huawei_iam import iam_endpoint

    return iam_endpoint(os.environ if env is None else env, region)


def probe(url: str, timeout: float = PROBE_SECONDS) -> str:
    """Connect to the URL's host and port (and shake hands for https); what failed, or "" when it connects."""
    parts = urlsplit(url)
    host, secure = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if secure:
                context = ssl.create_default_context()
                with context.wrap_socket(sock, server_hostname=host):
                    pass
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return f"the host name {host} does not resolve"
    except ssl.SSLCertVerificationError as exc:
        return f"TLS: the certificate was not accepted ({exc.verify_message})"
    except ssl.SSLError as exc:
        return f"TLS handshake failed ({exc.reason or exc})"
    except TimeoutError:
        return f"timed out (no connection within {timeout:g} s)"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return ""


def unreachable(url: str) -> str:
    """One phrase for an endpoint that gave no answer: "URL: connection refused", or that it connects now."""
    problem = probe(url)
    if problem:
        return f"{url}: {problem}"
    return f"{url} accepts connections now, but gave no answer in time (timed out, or the answer was lost)"
