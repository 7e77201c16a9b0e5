"""One cold invocation of a handler, in this fresh interpreter; the benchmark parent runs it as a child.

``python -m benchmarks.invoke SPEC.json`` where SPEC holds ``function`` (a directory of functions/),
``mode`` ("build": import the handler and build its Replicator; "call": import, then call the handler
with ``event``) and ``out`` (where to write the figures as JSON). The emulator runs in the parent, so the
memory and CPU figures here are imsync's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Import the handler module the way the platform does, then build or call it; return the figures."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT / "functions" / spec["function"]))
    import handler  # functions/<name>/handler.py, as the platform imports it

    imported = time.perf_counter()
    figures: dict[str, Any] = {"import_s": imported - started}
    if spec["mode"] == "build":
        from imsync import bootstrap

        bootstrap.replicator(None)
        figures["build_s"] = time.perf_counter() - imported
    else:
        from imsync.domain.errors import RunFailed

        try:
            answer = handler.handler(spec["event"], None)
        except RunFailed as failed:  # a failed run raises for the platform; its summary is the figures' source
            answer = failed.summary
        figures["call_s"] = time.perf_counter() - imported
        figures["ok"] = bool(answer.get("ok"))
        figures["counts"] = answer.get("counts", {})
        figures["errors"] = answer.get("errors", [])[:5]
        figures["error"] = answer.get("error", "")
    figures["cpu_s"] = _cpu()
    figures["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return figures


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    figures = run(spec)
    Path(spec["out"]).write_text(json.dumps(figures), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
