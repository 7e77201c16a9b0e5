"""The words around the figures in RESULTS.md: what is measured, the minimum derivations, the verdicts.

Verdicts are computed from the figures of the run; the few statements that rest on a separate
measurement (a profile) say so and when it was taken.
"""

from __future__ import annotations

from typing import Any

from benchmarks.coldstart import CALL_FLOOR, FIRST_INVOCATION, LOGGER_ON_FLOOR

TITLES = {
    "coldstart": "1. Cold start",
    "apicalls": "2. API calls against the minimum",
    "scale": "3. Scale",
    "throughput": "4. Emulator throughput",
    "latency": "5. Latency on the emulator's clock",
}
COLD_TARGET = 1.15  # a cold first invocation against the SDK's own first call doing the same requests
DATACLASSES_MS = 15  # creating imsync's 23 dataclasses on its cold path: python -X importtime, 2026-12-07, below
CALLS_TARGET = 1.1
EXPONENT_TARGET = 1.1
RSS_TARGET_MB = 256


def latency_poll(figures: dict[str, Any]) -> str:
    """The poll interval the latency runs used, in seconds (a median's bound)."""
    bounds = [r.get("median_bound_s") for r in figures["steps"] if r.get("median_bound_s")]
    return f"{bounds[0]:g}" if bounds else "?"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def summary(results: dict[str, Any]) -> list[str]:
    """The headline figures, one bullet per measurement that was run."""
    sections = results["sections"]
    out = ["## Headline", ""]
    if cold := sections.get("coldstart"):
        rows = {r["what"]: r for r in cold["rows"]}
        first, floor = rows[FIRST_INVOCATION], rows[CALL_FLOOR]
        rss = max(m["maxrss_mb"] for m in cold["memory"])
        ratio = first["ratio_to_floor"]
        out.append(
            f"- Cold first invocation (median of {cold['runs']}): {first['median_ms']:g} ms against "
            f"{floor['median_ms']:g} ms for the SDK's own first call with the same {first['requests']} requests: "
            f"{ratio:g}x (target <= {COLD_TARGET}: {_verdict(ratio <= COLD_TARGET)}). "
            f"Peak RSS of a cold invocation <= {rss:g} MB."
        )
    if calls := sections.get("apicalls"):
        rows = calls["rows"]
        over = [r for r in rows if r["ratio"] > CALLS_TARGET]
        at_min = len(rows) - len(over)
        worst = max(rows, key=lambda r: r["ratio"])
        iam = sorted({r["iam_calls"] for r in rows})
        out.append(
            f"- API calls: {at_min} of {len(rows)} scenarios within {CALLS_TARGET}x of the IMS minimum"
            + (
                f"; worst {worst['ratio']:g}x ({worst['scenario']}: {worst['ims_calls']} vs {worst['min_ims']})"
                if over
                else ""
            )
            + f"; IAM calls per invocation: {', '.join(map(str, iam))} (one listing of every region's projects, "
            "`GET /v3/auth/projects`, signed and sent by huaweicloudsdkcore: docs/deploy.md, section 1.2). "
            f"Target {_verdict(not over)}."
        )
    if scale := sections.get("scale"):
        small, large = scale["rows"][0], scale["rows"][-1]
        g = scale["growth"]
        ok = g["wall_s"] <= EXPONENT_TARGET and large["maxrss_mb"] < RSS_TARGET_MB
        out.append(
            f"- Scale, DR run over N x 5 regions: N={small['images']:,} {small['wall_s']:g} s, "
            f"N={large['images']:,} {large['wall_s']:g} s ({large['requests']} requests); growth exponent "
            f"{g['wall_s']:g} wall, {g['imsync_cpu_s']:g} imsync CPU; peak RSS {large['maxrss_mb']:g} MB "
            f"(targets <= {EXPONENT_TARGET} and < {RSS_TARGET_MB} MB: {_verdict(ok)})."
        )
    if tp := sections.get("throughput"):
        rows = tp["rows"]
        parts = [
            f"{r['images_in_region']:,} images: {r['list_per_s']:g} lists/s, {r['copy_per_s']:g} copies/s" for r in rows
        ]
        out.append("- Emulator throughput through the real SDK: " + "; ".join(parts) + ".")
    if lat := sections.get("latency"):
        steps = {r["step"]: r for r in lat["steps"]}
        bound = steps["active_to_copying"]["bound_s"]
        met = all(r["within"] for r in lat["steps"] if r["within"] is not None)
        out.append(
            f"- Latency in emulated seconds ({lat['runs']} phase offsets, {latency_poll(lat)}-second polls): image "
            "active -> copies "
            f"started at most {steps['active_to_copying']['max_s']:g} s (before this change up to 86,400 s, derived: "
            f"the next daily DR run); replica active -> shared at most {steps['replica_to_shared']['max_s']:g} s; "
            f"shared -> accepted by the partner at most {steps['shared_to_accepted']['max_s']:g} s (target: each "
            f"median within one poll, each maximum within {bound:g} s: {_verdict(met)})."
        )
    out.append("")
    return out


def before(name: str, figures: dict[str, Any]) -> list[str]:
    """What the section measures and how; for section 2, the minimum each scenario is held to."""
    if name == "coldstart":
        return [
            "Each figure is a fresh `python -c`, timed from starting the interpreter to its exit (wall clock, so",
            "interpreter start-up is in all of them), against the emulator in the parent process, every module",
            "imported from `.pyc` as the zips ship them (a scratch `PYTHONPYCACHEPREFIX` written by one unmeasured",
            "run of each child), runs interleaved so that a load spike hits every series alike.",
            "",
            "- The target row: `replicate_on_create` imported from `functions/` as the platform imports it, handling",
            "  the CTS record of an image that asks for nothing (the commonest invocation: CTS reports every image",
            "  of the account). It makes one IAM call (every region's project) and one listing (the image by ID).",
            "  Its floor is the SDK alone making the same two requests: import `huaweicloudsdkims.v2`, build an",
            "  `ImsClient` by region (its credentials look the project up in IAM), list the image by ID. The",
            "  benchmark refuses to report if either side made other requests.",
            "- The floor again with aws-lambda-powertools' Logger built and writing the two JSON lines the target",
            "  writes: the part of the difference that the stack's Logger takes (imsync logs through it, the named",
            "  stack's choice) before any code of imsync's runs.",
            "- Each handler's import and build (`import handler`, then `imsync.bootstrap.replicator(None)`: settings,",
            "  credentials, the IMS adapter, the client cache, the notifier; no request) against",
            '  `python -c "import huaweicloudsdkims.v2"`. `import ms` and `build ms` split one extra run in-process.',
            "",
            "Peak memory: `ru_maxrss` of a child interpreter that runs one real invocation against the emulator.",
            "",
        ]
    if name == "apicalls":
        return [
            "Every scenario is one cold invocation of the real handler, in a child interpreter, over the real SDK,",
            "against a six-region emulator (source `cn-north-4`, destinations `bm-a-1` ... `bm-e-1`, all five",
            "allowed). The requests are the emulator's counters, by operation. Short region IDs are a necessity:",
            "an IMS tag value holds at most 43 characters, and five real region IDs (9-10 characters each, plus",
            "four separators) do not fit in one `imsync-regions` tag; with real IDs a policy names at most four.",
            "",
            "**The minimum the IMS API allows**, with `pages(n) = ceil(n / 500) + 1` requests to list `n` images",
            "(the IMS API reference gives `limit` a default of 500 and documents no maximum, so imsync asks for 500;",
            "without `page_info` a listing carries no end marker and IMS may answer shorter pages than asked, so",
            "only an empty page ends it, as in the Terraform provider's images data source):",
            "",
            "- *Create event, d destinations*: 1 read of the named image (its tags are the policy; the event",
            "  carries none that can be trusted) + one listing of each destination (is a copy there, in any state?)",
            "  + d copies. imsync also promises to count the copies in flight in every allowed region before",
            "  copying (README, Guarantees); IMS has no call that lists an account's running copy jobs, so that is",
            "  one listing of each allowed region, which also answers the first question; then one tag write on the",
            '  source that notes the d copy jobs (README, "Copies IMS lists late": a copy IMS does not list yet must',
            "  not be started again by the next run): `1 + 5 x pages(0) + d + 1`. Without the in-flight promise the",
            "  floor would be `1 + d + d + 1`.",
            "- *Completion of K replicas in one region, 2 aliases*: list the source region (the policies) and the",
            "  destination (the replicas): `2 x pages(K)`; add both projects to up to 50 images per member call",
            "  (one call takes many images and many projects; 50 per call is imsync's assumption, IMS documents",
            "  no limit): `ceil(K / 50)`; read each member call's job once, because IMS adds members asynchronously",
            "  and imsync records a share only when its job succeeded: `ceil(K / 50)` `show_job_progress` (once",
            "  when the job has ended by the first look, as here; a slower job costs one read per look); tag each",
            "  replica once (`POST .../tags/action` takes many tags but one image): `K`. No member listing: a replica",
            "  imsync has just made has no members to keep.",
            "- *DR run, N images x 5 regions*: list the source and each destination once:",
            "  `pages(N) + 5 x pages(present)`; when some replicas are missing, start as many copies as IMS runs at",
            "  once (5), and note each started copy's job on its source with one tag write per source (the benchmark",
            "  spreads the missing replicas one per source, so that is one write per copy): the rest waits for the",
            "  next run in any schedule. Nothing per image that is in sync.",
            "- *IAM*: one project look-up per region the process touches (`GET /v3/projects?name=`, cached by the",
            "  SDK for the process), counted apart.",
            "",
        ]
    if name == "scale":
        return [
            "A DR run (`scheduled_dr_copy`, TIMER event) over N opted-in images in `cn-north-4`, each asking for",
            "the five destinations, every replica present, finished and tagged: the steady state, so the run",
            "lists 6 regions of N images and decides N x 5 times `in sync`, logging each decision. Median of the",
            "runs; `handler s` is the call inside the child (no interpreter start-up), `imsync CPU s` the child's",
            "user+system time, `emulator CPU s` the parent's (the emulator's) during the run, `peak RSS` the",
            "child's. Exponent k: value ~ N^k between the two sizes.",
            "",
        ]
    if name == "latency":
        return _latency_method(figures)
    return [
        "The real SDK client in a child interpreter against a region holding the given number of images:",
        f"{figures['lists']} list requests (`limit=500`, the first page, as imsync asks) and {figures['copies']} "
        "cross-region",
        "copies (the in-flight limit lifted). `list handler ms` is the emulator's list code alone (called",
        "in-process, no HTTP), `emulator CPU ms/list` and `/copy` the emulator's process CPU per request served",
        "(HTTP, signature check, handler, JSON), lists and copies measured in separate children.",
        "",
    ]


def after(name: str, figures: dict[str, Any]) -> list[str]:
    """The verdict and, where a target is not met, why, with the evidence."""
    if name == "coldstart":
        rows = {r["what"]: r for r in figures["rows"]}
        first, floor, logger = rows[FIRST_INVOCATION], rows[CALL_FLOOR], rows[LOGGER_ON_FLOOR]
        gap = first["median_ms"] - floor["median_ms"]
        logger_part = logger["median_ms"] - floor["median_ms"]
        met = first["ratio_to_floor"] <= COLD_TARGET
        # What the target leaves for imsync's own code once the stack's Logger has done the invocation's logging.
        budget = COLD_TARGET * floor["median_ms"] - logger["median_ms"]
        reach = (
            f"That is less than creating imsync's dataclasses alone takes (about {DATACLASSES_MS} ms, measured apart",
            "below): with the stack's Logger and the house's frozen dataclasses the target cannot be met on this",
            "benchmark; it needs a decision on one of them, not a change of code.",
        )
        if budget >= DATACLASSES_MS:
            reach = ("A leaner import path (the planning modules only when an image asks for something) may reach it.",)
        return [
            f"Verdict: the cold first invocation takes {first['ratio_to_floor']:g}x the SDK's own first call, target",
            f"<= {COLD_TARGET}: {_verdict(met)}. Of its {gap:.0f} ms more, the stack's Logger doing what the",
            "invocation's Logger does (import aws-lambda-powertools, build the Logger, write the same two lines)",
            f"takes {logger_part:.0f} ms ({logger['ratio_to_floor']:g}x the floor). The target then leaves"
            f" {max(budget, 0):.0f} ms for",
            "everything of imsync's own: its modules, settings, the event's parsing and the decision.",
            *reach,
            "",
            "Measured apart (`python -X importtime`, 2026-12-07, this machine, `.pyc` present): imsync's own modules",
            "about 30 ms, of which about 15 ms is creating its 23 dataclasses (about 0.65 ms each) and about 4 ms",
            "compiling regular expressions; aws-lambda-powertools about 18 ms beyond what the SDK imports anyway",
            "(its package imports Logger, Metrics and Tracer; `typing_extensions`, `jmespath`, `inspect`).",
            "Before this round the six tag-rule patterns spanning the CJK block took about 6 ms to compile; they",
            "are checked character by character now (tests/domain/test_tag_rules.py holds them to the emulator's).",
            "",
            "Earlier cold-start figures in this file's history (floor 538 ms, handlers 1.29-1.37x) were taken",
            "with the SDK compiled from source in every child (the environment had no `.pyc` and could not write",
            "them); they measured the compiler as much as imsync, and are not comparable with these.",
            "",
        ]
    if name == "apicalls":
        rows = figures["rows"]
        out = []
        for r in rows:
            if r["ratio"] > CALLS_TARGET:
                out.append(
                    f"- Not met: {r['scenario']}: {r['ims_calls']} IMS calls against {r['min_ims']} "
                    f"({r['ratio']:g}x); the difference is {r['calls'].get('list_image_members', 0)} "
                    "`list_image_members` call(s)."
                )
        verdict = [f"Verdict: {_verdict(not out)} for every scenario." if not out else "Verdict:"]
        if out:
            out += [
                "",
                "Why: before adding members, imsync reads each replica's members (one call per replica) to add only",
                "the missing projects. For a replica that imsync never shared (no `imsync-shared` tag) the reading can",
                "be skipped; measured with that change on this machine (2026-11-26, load 1.7): K=1: 5 -> 4, K=10:",
                "23 -> 13, K=50: 103 -> 53 IMS calls, i.e. the minimum. It is not committed: `python -m pytest` then",
                "fails this test, which relies on fresh replicas' members being read:",
                "`tests/abuse/test_malformed_answers.py::test_a_malformed_member_listing_does_not_stop_the_other_replicas`;",
                "and whether IMS accepts adding a member that is already there (the emulator does) is not known",
                "from the documentation. The change is ten lines in `Replicator._share` (skip the listing for",
                "never-shared replicas; on a refused batch, fall back to reading the members); the owner of that",
                "test decides.",
            ]
        return [
            *verdict,
            *out,
            "",
            "Since the previous run the minimums changed with the engine, and the figures with them: pages are of",
            "500 again (IMS documents no page larger than its default; pages of 1,000 had saved 18 -> 12 IMS calls",
            "on a DR run over 1,000 images), each member job is read (+1 `show_job_progress` per member call), and",
            "each source whose copies start gets one tag write noting the copy jobs (+1 per source in create events",
            "and DR runs). Optimised on the way (separate commits): a replica imsync never shared is shared without",
            "reading its members first (completion K=50: 103 -> 53 IMS calls at the time). One IAM listing of all",
            "the account's projects, instead of one look-up per region, was tried and reverted: the SDK looks each",
            "region's project up by name (`GET /v3/projects?name=`, docs/deploy.md, section 1.2). Whether",
            "IMS accepts re-adding a member that is already there is not documented: if IMS refuses the batch,",
            "imsync reads the members and adds only the missing ones (tests/e2e/test_replication.py::",
            "test_a_refused_share_batch_is_retried_after_reading_the_members).",
            "",
        ]
    if name == "scale":
        small, large = figures["rows"][0], figures["rows"][-1]
        g = figures["growth"]
        emulator_share = large["emulator_cpu_s"] / large["wall_s"] if large["wall_s"] else 0.0
        return [
            f"Verdict: wall-time exponent {g['wall_s']:g} (target <= {EXPONENT_TARGET}: "
            f"{_verdict(g['wall_s'] <= EXPONENT_TARGET)}), peak RSS {large['maxrss_mb']:g} MB (target < "
            f"{RSS_TARGET_MB} MB: {_verdict(large['maxrss_mb'] < RSS_TARGET_MB)}).",
            "",
            f"Reading it: requests grow with pages ({small['requests']} -> {large['requests']}). imsync's own CPU "
            f"grows with exponent {g['imsync_cpu_s']:g}. The emulator's CPU ({large['emulator_cpu_s']:g} s at "
            f"N={large['images']:,}, {emulator_share:.0%} of the wall time; exponent {g['emulator_cpu_s']:g}) grows",
            "faster than N: each page re-filters every image of every region and re-sorts the region to find the",
            "marker, so listing a region of n images costs O(n^2 / 500) in the emulator (see section 4). That is",
            "the emulator's, not imsync's; the real IMS pages on its side.",
            "",
            "Where imsync's time went (cProfile of one N=10,000 run, 2026-11-26, after the optimisations below, with",
            "pages of 1,000, so before the engine went back to pages of 500; not re-taken since):",
            "of 8.6 s under the profiler, 3.1 s (36%) writing the 50,000 JSON decision lines (one per image and",
            "region: the log promises one line per decision), 3.9 s (45%) listing, including the wait for the",
            "emulator, the rest planning. Peak RSS is the interpreter with the SDK (about 42 MB, see section 1)",
            "plus the 60,000 listed images and the 50,000 results the handler returns.",
            "",
            "Optimised on the way (each a separate commit with its before/after): the list pages are no longer",
            "turned into SDK model objects that imsync never read (imsync CPU at N=10,000 6.0 -> 3.8 s);",
            "`Result.as_dict` without `dataclasses.asdict` (3.8 -> 3.2 s); pages of 1,000 instead of 500",
            "(requests 132 -> 72; since reverted, as IMS documents no page above its default of 500, so the",
            "requests here are pages of 500 again); the emulator's list sorting",
            "no longer formats a timestamp per image per page (a 10,000-image region listing 0.71 -> 0.30 s).",
            "Before them the wall-time exponent was 1.19 (17.6 s at N=10,000, load 1.8).",
            "",
        ]
    if name == "latency":
        return _latency_verdict(figures)
    rows = figures["rows"]
    return [
        "A page of 500 images costs the client (the SDK's request, imsync's JSON parsing) and the emulator",
        "(serialising 500 images) far more than a copy does. The emulator's list handler also grows with",
        "everything it holds, because each page scans every image and sorts the region: "
        + ", ".join(f"{r['emulator_list_handler_ms']:g} ms at {r['images_in_region']:,}" for r in rows)
        + ". A copy scans all images for the quota check. The scale figures include this emulator time;",
        "imsync's part is its own CPU column there.",
        "",
    ]


def _latency_method(figures: dict[str, Any]) -> list[str]:
    runs, job, poll = figures["runs"], figures["member_job_seconds"], latency_poll(figures)
    return [
        f"The deployment as documented (README, the functions table): `share_on_complete` polls every {poll} s",
        "(a TIMER event, no replica IDs), `scheduled_dr_copy` runs once a day (at midnight UTC here), and",
        f"`accept_shares` polls every {poll} s in the partner account, with the partner's own keys, trusting the",
        "owner's project in each destination region (`IMSYNC_TRUSTED_OWNERS`), on a timer of its own.",
        "",
        "The story, once per run: an image is created in `cn-north-4` with `imsync-regions=cn-east-3_ap-southeast-1`",
        "and `imsync-share=partner` while still `saving`, and its CTS create event arrives then and is deferred",
        "(IMS's `createImage` answers before the image is active). The image turns active between two polls; a",
        "poll starts its two copies; the copies end (the emulator's copy takes 60 s + 2 s per GB, and the image's",
        "size is chosen so that each run's copy ends at another phase, after the next poll has seen it running);",
        f"a poll tags and shares the replicas (the emulator's member job takes {job:g} s); the partner's poll accepts",
        "them. The real handlers (`functions/*/handler.py`, loaded by file as the platforms do) run in this process",
        "over the real SDK and HTTP; the emulator's ManualClock is moved from one scheduled invocation to the",
        "next, and imsync's waits for member jobs move it too (`imsync.bootstrap.emulated_time`).",
        "",
        "Each step is measured from the event that makes it possible, on the emulator's own records: (a) the image",
        "turning active -> its copy job's start; (b) the copy job's end (the replica is active) -> the member",
        "job's end (the partner's project is on the replica, pending); (c) that -> the partner's acceptance. Over",
        f"the {runs} runs, the image turns active, the copy ends and the partner's timer fires at each of {runs}",
        f"offsets spread over one interval ((i + 0.5) x {poll} / {runs} s after a poll; each of the three phases takes",
        "every offset once, in different orders). Emulated time is deterministic: these figures do not depend on",
        "the machine or its load.",
        "",
    ]


def _latency_verdict(figures: dict[str, Any]) -> list[str]:
    steps = {r["step"]: r for r in figures["steps"]}
    a, b, c = (steps[k]["max_s"] for k in ("active_to_copying", "replica_to_shared", "shared_to_accepted"))
    bound = steps["active_to_copying"]["bound_s"]
    met = all(r["within"] for r in figures["steps"] if r["within"] is not None)
    rows = figures["rows"]
    deferred = sum(1 for r in rows if set(r["create_event"]) == {"deferred"})
    dr_runs = sum(r["dr_runs"] for r in rows)
    poll = latency_poll(figures)
    return [
        f"Verdict: each step's median within one poll interval, its maximum within {bound:g} s: {_verdict(met)}",
        f"(at most {a:g}, {b:g} and {c:g} s). The create event was deferred in {deferred} of {len(rows)} runs",
        f"(the image was still `saving`); DR runs during the runs: {dr_runs}, so every copy was started by the poll.",
        "",
        f"Worst cases, from the schedule (derived): (a) just under {poll} s, when the image turns active just after",
        f"a poll; (b) just under {poll} s plus the member jobs: imsync waits for each region's member job in turn",
        "(it looks again after pauses of 0.5, 1 and 2 s, so it sees a 2 s job done 3.5 s after starting it),",
        "which is why the second region's replica is shared 3.5 s after the first in the (b) column; (c) just",
        f"under {poll} s, when the partner's poll comes just before the share lands. None of them depends on the",
        "daily DR run any more.",
        "",
        "Beside the state before this change and a peer, for the same steps:",
        "",
        "| step | imsync now (measured, max) | imsync before this change (derived, not measured) | "
        "Terraform provider (from its source) |",
        "|---|---|---|---|",
        f"| (a) image active -> copies started | {a:g} s | up to 86,400 s: the poll did not start copies, so an "
        "image whose create event came while it was `saving` waited for the next daily DR run | when a person "
        "or a pipeline runs `terraform apply`: the provider starts nothing by itself |",
        f"| (b) replica active -> shared | {b:g} s | the same: the poll already shared finished replicas | "
        "in the same apply, once the copy resource sees its job end (it polls the job every 10 s after a 60 s "
        "delay); the share resource then adds the members and polls their job every 1 s |",
        f"| (c) shared -> accepted | {c:g} s | no automatic step: imsync had no `accept_shares`; a person "
        "accepted in the recipient account | only when an apply with the recipient's credentials runs a share "
        "accepter resource naming that image's ID; nothing finds and accepts new shares |",
        "",
        "Sources for the peer column: the Terraform provider's `huaweicloud_images_image_copy` polls the job every",
        "10 s after a 60 s delay (`Delay` 60 s and `MinTimeout` 10 s in",
        "`huaweicloud/services/ims/resource_huaweicloud_images_image_copy.go` of",
        "huaweicloud/terraform-provider-huaweicloud); `huaweicloud_images_image_share` (1 s job polling) and",
        "`huaweicloud_images_image_share_accepter` (one named image, accepted when applied) are",
        "`resource_huaweicloud_images_image_share.go` and `resource_huaweicloud_images_image_share_accepter.go`",
        "in the same folder. Read that way, Terraform's (b) is shorter than a one-minute poll once an apply is",
        "running; what it lacks is anything that runs it when an image turns active or a share arrives.",
        "",
    ]
