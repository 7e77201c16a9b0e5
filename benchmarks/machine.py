"""Facts about the machine and the moment a figure was taken."""

from __future__ import annotations

import atexit
import functools
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _bytecode_cache() -> str:
    """One scratch directory for the children's .pyc, for this process, removed when it exits."""
    path = tempfile.mkdtemp(prefix="imsync-bench-pyc-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a benchmark's child interpreter, which imports from .pyc as the deployed zips do.

    The zips ship every module precompiled; a development environment may have none (uv installs without them,
    and PYTHONDONTWRITEBYTECODE stops Python from writing them), and then every child compiles the SDK's
    hundreds of modules from source, which dwarfs what is measured. So the children keep their .pyc in one
    scratch cache (PYTHONPYCACHEPREFIX) for the benchmark's process: the first child writes it, the next
    ones read it; the environment's own directories are not touched. The cold-start section runs each of its
    children once, unmeasured, before it measures.
    """
    child = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    child["PYTHONPYCACHEPREFIX"] = _bytecode_cache()
    return child


def load() -> str:
    """The 1, 5 and 15 minute load averages, as uptime shows them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def facts() -> dict[str, Any]:
    """nproc, memory, CPU, Python, OS, commit, date and load, for RESULTS.md."""
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": os.cpu_count() or 0,
        "memory_mb": _memory_mb(),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "commit": _git_commit(),
        "load": load(),
    }
