"""The soak: ``python -m tests.chaos.soak --steps 10000 --seed S`` plays one long chaos run and prints its figures.

Exit status 0 when there were no violations, 1 otherwise (each violation is printed with its seed and step).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.chaos.harness import ChaosRun, Figures, Violation
from tests.chaos.retention_invariant import deletions, retaining_chaos_run


def report(seed: int, figures: Figures, violations: list[Violation], load: tuple[float, float, float]) -> str:
    """The figures of one run, as printed and as docs/reliability.md quotes them."""
    faults = ", ".join(f"{k} {v}" for k, v in sorted(figures.faults.items()))
    events = ", ".join(f"{k} {v}" for k, v in sorted(figures.events.items()))
    calls = ", ".join(f"{k} {v}" for k, v in sorted(figures.handler_calls.items()))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(figures.step_kinds.items()))
    converged = f"{figures.convergence_rounds}" if figures.converged else "NOT CONVERGED"
    lines = [
        f"seed: {seed}; emulator readings: {figures.readings}",
        f"steps: {figures.steps}",
        f"step kinds: {kinds}",
        f"faults injected: {sum(figures.faults.values())} ({faults})",
        f"events: {events} (duplicated {figures.events['duplicate']}, dropped {figures.events['drop']})",
        f"handler invocations: {calls}",
        f"copies started (IMS copy jobs): {figures.copies}; injected copy failures: {figures.failed_copies_injected}",
        f"max copies in flight seen by IMS: {figures.max_in_flight}",
        f"API requests: {figures.requests}; log lines scanned: {figures.log_lines}; summaries: {figures.summaries}",
        f"runs until converged (DR run + poll rounds, faults off): {converged}",
        f"the unkind world: {', '.join(f'{k} {v}' for k, v in sorted(figures.episodes.items()))}; fresh instances "
        f"{figures.fresh_instances}; sources with a full tag budget {figures.full_sources}",
        f"notices published: {figures.notices}; failed runs (each raised): {figures.failed_runs}",
        f"violations: {len(violations)}",
        f"duration: {figures.seconds:.1f} s; load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]
    lines += [str(v) for v in violations]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.soak", description=__doc__)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--images", type=int, default=14, help="source images in the starting estate")
    parser.add_argument("--fault-rate", type=float, default=0.06, help="chance of a 429 per request (5xx, lost: half)")
    parser.add_argument("--delay-rate", type=float, default=0.002, help="chance of an answer delayed past the timeout")
    parser.add_argument("--readings", default="documented", help="emulator profile (imsync.emulator.PROFILES)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--retention",
        action="store_true",
        help="IMSYNC_RETAIN=follow (grace 0), pipelines deleting sources, invariant 4",
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    run = retaining_chaos_run if args.retention else ChaosRun
    with run(
        args.seed,
        args.steps,
        images=args.images,
        fault_rate=args.fault_rate,
        delay_rate=args.delay_rate,
        progress=progress,
        readings=args.readings,
    ) as chaos:
        figures = chaos.run()
        violations = chaos.violations
        deleted = deletions(chaos.cloud) if args.retention else None
    print(report(args.seed, figures, violations, load), flush=True)
    if deleted is not None:
        print(f"retention: sources deleted by their pipelines {chaos.sources_deleted}; DELETE requests {deleted}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
