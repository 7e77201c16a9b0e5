"""The printed table and RESULTS.md, from the raw figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Table = tuple[list[str], list[list[str]]]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _tables(name: str, figures: dict[str, Any]) -> list[tuple[str, Table]]:
    if name == "coldstart":
        cold = (
            ["what", "median ms", "min ms", "max ms", "runs", "x floor", "import ms", "build ms"],
            [
                [
                    r["what"],
                    _fmt(r["median_ms"]),
                    _fmt(r["min_ms"]),
                    _fmt(r["max_ms"]),
                    _fmt(r["runs"]),
                    _fmt(r["ratio_to_floor"]),
                    _fmt(r.get("in_process_import_ms", "")),
                    _fmt(r.get("in_process_build_ms", "")),
                ]
                for r in figures["rows"]
            ],
        )
        mem = (
            ["function", "cold invocation", "peak RSS MB", "wall ms", "requests", "ok", "load"],
            [
                [
                    m["function"],
                    m["invocation"],
                    _fmt(m["maxrss_mb"]),
                    _fmt(m["wall_ms"]),
                    _fmt(m["requests"]),
                    _fmt(m["ok"]),
                    m["load"],
                ]
                for m in figures["memory"]
            ],
        )
        return [("Cold start (process wall time, interleaved runs)", cold), ("Peak memory of one cold invocation", mem)]
    if name == "apicalls":
        rows = [
            [
                r["scenario"],
                _fmt(r["ims_calls"]),
                _fmt(r["min_ims"]),
                _fmt(r["ratio"]),
                _fmt(r["iam_calls"]),
                _fmt(r["ratio_with_iam"]),
                _fmt(r["calls"]),
                _fmt(r["ok"]),
                r["load"],
            ]
            for r in figures["rows"]
        ]
        header = ["scenario", "IMS calls", "IMS min", "x min", "IAM calls", "x min (+IAM, min 1)", "by operation"]
        return [("API calls against the minimum", ([*header, "ok", "load"], rows))]
    if name == "scale":
        rows = [
            [
                _fmt(r["images"]),
                _fmt(r["images_in_emulator"]),
                _fmt(r["wall_s"]),
                _fmt(r["handler_s"]),
                _fmt(r["imsync_cpu_s"]),
                _fmt(r["emulator_cpu_s"]),
                _fmt(r["requests"]),
                _fmt(r["maxrss_mb"]),
                _fmt(r["ok"]),
                ", ".join(r["loads"]),
            ]
            for r in figures["rows"]
        ]
        rows.append(
            [
                "exponent",
                "",
                *(
                    _fmt(figures["growth"][k])
                    for k in ("wall_s", "handler_s", "imsync_cpu_s", "emulator_cpu_s", "requests", "maxrss_mb")
                ),
                "",
                "",
            ]
        )
        header = ["N images", "in emulator", "wall s", "handler s", "imsync CPU s", "emulator CPU s", "requests"]
        return [("Scale: DR run, N x 5 regions in sync (medians)", ([*header, "peak RSS MB", "ok", "load"], rows))]
    if name == "latency":
        return _latency_tables(figures)
    rows = [
        [
            _fmt(r["images_in_region"]),
            _fmt(r["page_size"]),
            _fmt(r["list_per_s"]),
            _fmt(r["copy_per_s"]),
            _fmt(r["emulator_list_handler_ms"]),
            _fmt(r["emulator_cpu_ms_per_list"]),
            _fmt(r["emulator_cpu_ms_per_copy"]),
            r["load"],
        ]
        for r in figures["rows"]
    ]
    header = ["images in region", "page", "list req/s", "copy req/s", "list handler ms"]
    header += ["emulator CPU ms/list", "emulator CPU ms/copy", "load"]
    return [("Emulator throughput (real SDK client in a child process)", (header, rows))]


def _latency_tables(figures: dict[str, Any]) -> list[tuple[str, Table]]:
    steps = (
        ["step", "min s", "median s", "max s", "bound s", "within", "samples"],
        [
            [
                r["what"],
                _fmt(r["min_s"]),
                _fmt(r["median_s"]),
                _fmt(r["max_s"]),
                "" if r["bound_s"] is None else _fmt(r["bound_s"]),
                "" if r["within"] is None else _fmt(r["within"]),
                _fmt(r["samples"]),
            ]
            for r in figures["steps"]
        ],
    )
    runs = (
        [*_RUN_HEADERS, "(a) s", "(b) s", "(c) s", "end to end s", "polls", "accept runs", "DR runs"],
        [
            [
                _fmt(i + 1),
                _fmt(r["activate_phase_s"]),
                _fmt(r["replica_phase_s"]),
                _fmt(r["accept_phase_s"]),
                _fmt(r["size_gb"]),
                *(" / ".join(_fmt(v) for v in r["steps_s"][k]) for k in _STEP_KEYS),
                _fmt(r["polls"]),
                _fmt(r["accepts"]),
                _fmt(r["dr_runs"]),
            ]
            for i, r in enumerate(figures["rows"])
        ],
    )
    per_run = "Each run (+s: emulated seconds after the owner's poll; a / b / c per replica: " + ", ".join(
        figures["destinations"]
    )
    return [
        (f"Latency per step, emulated seconds ({figures['runs']} phase offsets x 2 replicas)", steps),
        (per_run + ")", runs),
    ]


_RUN_HEADERS = ("run", "active at +s", "copy ends at +s", "recipient polls at +s", "GB")
_STEP_KEYS = ("active_to_copying", "replica_to_shared", "shared_to_accepted", "active_to_accepted")


def _text(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _md(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def table(name: str, figures: dict[str, Any]) -> str:
    """The section as plain-text tables, for the terminal."""
    return "\n\n".join(f"== {title}\n{_text(*t)}" for title, t in _tables(name, figures)) + "\n"


def markdown(results: dict[str, Any]) -> str:
    """RESULTS.md: machine, date, command, every section's tables, derivations, verdicts and raw figures."""
    from benchmarks import notes

    f = results["facts"]
    out = [
        "# imsync benchmarks: results",
        "",
        "Written by `python -m benchmarks` (benchmarks/runner.py); edit benchmarks/notes.py, not this file.",
        "",
        f"- command: `{results['command']}`",
        f"- finished: {f['date']}, commit {f['commit']}",
        f"- machine: {f['nproc']} CPUs ({f['cpu']}), {f['memory_mb']} MB memory, {f['os']}, "
        f"{f['implementation']} {f['python']}; shared with other developers' test runs, so every figure carries "
        "the load average (1, 5, 15 min) seen when it was taken",
        "",
    ]
    out += notes.summary(results)
    for name in ("coldstart", "apicalls", "scale", "throughput", "latency"):
        figures = results["sections"].get(name)
        if figures is None:
            continue
        fs = figures["facts"]
        out += [
            f"## {notes.TITLES[name]}",
            "",
            f"Taken {fs['date']} by `{figures['command']}` in {figures['seconds']} s; "
            f"load {fs['load']} before, {figures['load_after']} after.",
            "",
        ]
        out += notes.before(name, figures)
        for title, (headers, rows) in _tables(name, figures):
            out += [f"**{title}**", "", _md(headers, rows), ""]
        out += notes.after(name, figures)
        raw = {k: v for k, v in figures.items() if k not in ("facts",)}
        out += [
            "<details><summary>raw figures</summary>",
            "",
            "```json",
            json.dumps(raw, indent=1),
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
