"""`imsync demo`: drives the real handlers over the seeded estate while the emulator's clock runs, then checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console

from imsync.demo.end_state import end_table, follower_state, missing, partner_view, unaccepted, wrong
from imsync.demo.estate import HOME, REGIONS, estate_table, seed_demo_estate, seed_follower, seed_partner
from imsync.domain.errors import RunFailed
from imsync.domain.outcomes import Outcome
from imsync.emulator import Emulator
from imsync.emulator.environment import environment
from imsync.ops.command_kit import HELP, console_for, print_table, rule

TICK = 60.0  # emulated seconds between steps
POLL_EVERY = 2  # ticks between completion polls (deployed default: 5 minutes)
DR_EVERY = 10  # ticks between DR runs (deployed default: daily; compressed for the demo)
BAKED_AT = 6  # tick at which the image that is still being created becomes active
MAX_TICKS = 180


def _cts_create_event(image_id: str) -> dict[str, Any]:
    return {
        "cts": {
            "service_type": "IMS",
            "resource_type": "image",
            "trace_name": "createImage",
            "trace_status": "normal",
            "code": "200",
            "resource_id": image_id,
        }
    }


# The demo prints its own timeline; the functions' JSON logs would drown it. Each invocation sets
# the log level from its settings, so the level is set where they read it.
QUIET = {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}
COLOURS = {
    Outcome.STARTED: "cyan",
    Outcome.DONE: "green",
    Outcome.ACCEPTED: "green",
    Outcome.REFUSED: "yellow",
    Outcome.UNTRUSTED: "yellow",
    Outcome.DEFERRED: "magenta",
}
NOTEWORTHY = {
    Outcome.STARTED,
    Outcome.DONE,
    Outcome.REFUSED,
    Outcome.DEFERRED,
    Outcome.FAILED,
    Outcome.ERROR,
    Outcome.ACCEPTED,
    Outcome.UNTRUSTED,
}
SAID_ONCE = {Outcome.DEFERRED, Outcome.REFUSED, Outcome.UNTRUSTED}  # repeated on every run until something changes


class Demo:
    """Drives the handlers over emulated time and prints what happens."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tick = 0
        self.reported: set[tuple[str, str, str, str]] = set()

    def _clock(self) -> str:
        minutes = int(self.tick * TICK // 60)
        return f"[dim]{minutes // 60:02d}:{minutes % 60:02d}[/dim]"

    def show(self, function: str, answer: Mapping[str, Any], names: Mapping[str, str]) -> None:
        if "error" in answer:
            self.console.print(f"{self._clock()} [red]{function}: {answer['error']}[/red]")
            return
        for result in answer["results"]:
            outcome = result["outcome"]
            key = (result.get("image_id", ""), result.get("region", ""), result["action"], outcome)
            # A deferral, refusal or untrusted share repeats on every run until something changes: say it once.
            if outcome not in NOTEWORTHY or (outcome in SAID_ONCE and key in self.reported):
                continue
            self.reported.add(key)
            colour = COLOURS.get(outcome, "red")
            image_id = result.get("image_id", "")
            name = names.get(image_id) or result.get("image_name") or image_id
            self.console.print(
                f"{self._clock()} {function:<19} [bold]{name:<10}[/bold] {result['region']:<15} "
                f"[{colour}]{result['action']} {outcome}[/{colour}]  [dim]{result.get('reason', '')}[/dim]"
            )


def _invoke(function: str, event: object) -> Mapping[str, Any]:
    """The handler's summary, also of a run that failed (it raises, so that the platform counts the failure)."""
    from imsync.function_files import handler

    try:
        return handler(function)(event)
    except RunFailed as failed:
        return failed.summary


def run_demo(console: Console | None = None) -> int:
    """Run the demo; 0 when the end state is right."""
    from imsync.bootstrap import emulated_time

    console = console or console_for(False)
    with Emulator(regions=REGIONS) as cloud:
        estate = seed_demo_estate(cloud)
        seed_partner(cloud, estate)
        seed_follower(cloud, estate)
        demo = Demo(console)
        rule(console, "imsync demo: seeded estate in cn-north-4 (emulated IMS, real SDK over HTTP)")
        print_table(console, estate_table(cloud, estate))
        with environment({**estate.env, **QUIET}), emulated_time(cloud.clock.advance):
            for image_id in estate.with_events:
                answer = _invoke("replicate_on_create", _cts_create_event(image_id))
                demo.show("replicate_on_create", answer, estate.names)
            while demo.tick < MAX_TICKS:
                demo.tick += 1
                cloud.clock.advance(TICK)
                if demo.tick == BAKED_AT:
                    cloud.region(HOME).set_status(estate.baking, "active")
                    console.print(f"{demo._clock()} [bold]baking[/bold] finished being created (now active)")
                if follower_state(cloud, estate) == "ready":  # the pipeline deletes last week's build
                    cloud.region(HOME).delete_image(estate.follower)
                    console.print(
                        f"{demo._clock()} [bold]last-week[/bold] deleted by its pipeline: its replica follows it "
                        "(imsync-retain=follow)"
                    )
                if demo.tick % POLL_EVERY == 0:
                    demo.show("share_on_complete", _invoke("share_on_complete", {}), estate.names)
                    # the partner's own deployment, with its own keys
                    with environment({**estate.partner_env, **QUIET}):
                        demo.show("accept_shares", _invoke("accept_shares", {}), estate.names)
                if demo.tick % DR_EVERY == 0:
                    demo.show("scheduled_dr_copy", _invoke("scheduled_dr_copy", {}), estate.names)
                done = not cloud.in_flight() and not missing(cloud, estate) and not unaccepted(cloud, estate)
                done = done and follower_state(cloud, estate) == "followed"
                if demo.tick > BAKED_AT and done:
                    break
        rule(console, "end state")
        print_table(console, end_table(cloud, estate))
        problems = missing(cloud, estate) + unaccepted(cloud, estate) + wrong(cloud, estate)
        console.print(
            f"most copies in flight at once: {cloud.max_in_flight} (IMS allows 5); "
            f"emulated time: {int(demo.tick * TICK // 60)} min; API requests: {len(cloud.requests)}"
        )
        console.print(partner_view(cloud, estate))
    if problems:
        for problem in problems:
            console.print(f"[red]NOT RIGHT:[/red] {problem}")
        return 1
    console.print(
        "[green]end state is right: every eligible image is replicated once, tagged, shared, and accepted by the "
        "partner; the stranger's share is still pending; last-week's replica followed its deleted source.[/green]"
    )
    return 0


@click.command(
    "demo",
    context_settings=HELP,
    epilog="Exit codes: 0 the end state is right; 1 it is not (each problem is printed); 130 interrupted.",
)
def demo_command() -> None:
    """Run the whole story on the embedded emulator: copies, limits, refusals, shares, the partner accepting."""
    raise SystemExit(run_demo())
