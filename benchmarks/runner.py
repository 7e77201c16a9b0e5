"""``python -m benchmarks [--quick] [--only NAME ...] [--output FILE]``: run, print a table, write RESULTS.md."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import apicalls, coldstart, latency, report, scale, throughput
from benchmarks.machine import ROOT, facts

SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "coldstart": coldstart.measure,
    "apicalls": apicalls.measure,
    "scale": scale.measure,
    "throughput": throughput.measure,
    "latency": latency.measure,
}
DEFAULT_OUTPUT = ROOT / "benchmarks" / "RESULTS.md"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs (CI); no timing targets")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section (repeatable)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the report (default benchmarks/RESULTS.md; --quick writes none unless given)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    names = args.only or list(SECTIONS)
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    output: Path | None = args.output or (None if args.quick else DEFAULT_OUTPUT)
    raw_path = output.with_suffix(".json") if output else None
    results: dict[str, Any] = {}
    if raw_path and raw_path.exists() and args.only:
        results = json.loads(raw_path.read_text(encoding="utf-8"))  # keep the sections not re-run
    results.setdefault("sections", {})
    for name in names:
        started = time.perf_counter()
        before = facts()
        figures = SECTIONS[name](args.quick)
        figures["facts"] = before
        figures["load_after"] = facts()["load"]
        figures["command"] = command
        figures["quick"] = args.quick
        figures["seconds"] = round(time.perf_counter() - started, 1)
        results["sections"][name] = figures
        print(report.table(name, figures), flush=True)
    results["facts"] = facts()
    results["command"] = command
    if output:
        assert raw_path is not None
        output.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        output.write_text(report.markdown(results), encoding="utf-8")
        print(f"wrote {output} and {raw_path}")
    return 0
