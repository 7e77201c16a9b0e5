"""The seed format and the `imsync emulator` command (run as a real process)."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imsync.config import Settings
from imsync.emulator import Emulator, ScaledClock, load_seed
from imsync.emulator.command import export_lines
from imsync.emulator.seed import SeedError

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "emulator-seed.example.json"


def test_example_seed_loads():
    with Emulator() as cloud:
        made = load_seed(cloud, json.loads(EXAMPLE.read_text()))
        assert cloud.owner.ak == "EMULATOROWNERAK00001"
        assert cloud.owner.projects["cn-north-4"] == "1" * 32
        assert {a.name for a in cloud.agencies()} == {"imsync-copy", "broken-agency"}
        north = {r.name: r for r in made["cn-north-4"]}
        assert north["golden-ubuntu"].tags["imsync-share"] == "partner"
        assert north["already-shared"].members == {
            cloud.recipient.projects["cn-north-4"]: "accepted",
            cloud.account("qa").projects["cn-north-4"]: "pending",
        }
        assert made["cn-east-3"][0].owner is cloud.recipient
        assert cloud.image_quota == 50


@pytest.mark.parametrize(
    "bad",
    [
        {"nope": 1},
        {"images": {"eu-west-0": []}},
        {"images": {"cn-north-4": [{"name": "x", "colour": "red"}]}},
        {"images": {"cn-north-4": [{"name": "x", "owner": "nobody"}]}},
        {"images": {"cn-north-4": [{"name": "x", "share": {"partner": "maybe"}}]}},
    ],
)
def test_bad_seed_is_refused_with_reason(bad):
    with Emulator(start=False) as cloud, pytest.raises(SeedError):
        load_seed(cloud, bad)


def test_export_lines_quote_values():
    with Emulator(clock=ScaledClock(60)) as cloud:
        lines = export_lines(cloud, "imsync-copy")
        assert f"export HUAWEICLOUD_SDK_AK={cloud.owner.ak}" in lines
        share = next(line for line in lines if line.startswith("export IMSYNC_SHARE_TARGETS="))
        assert share.startswith("export IMSYNC_SHARE_TARGETS='{")
        # What the shell would set is a valid imsync configuration (found in review: it was not).
        env = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)
        settings = Settings.from_env(env)
        assert settings.home_region == cloud.regions[0]
        assert settings.allowed_regions == set(cloud.regions[1:])
        assert settings.share_projects(("partner",), "cn-east-3") == (cloud.recipient.projects["cn-east-3"],)


def test_command_prints_exports_then_serves(tmp_path):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkims.v2 import ImsClient, ListImagesRequest

    code = "from imsync.emulator.command import emulator; emulator()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "--regions",
            "cn-north-4,cn-east-3",
            "--seed",
            str(EXAMPLE),
            "--speed",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        env = {}
        assert proc.stdout is not None
        while "IMSYNC_SHARE_TARGETS" not in env:
            line = proc.stdout.readline()
            assert line.startswith("export "), line
            key, _, value = line[len("export ") :].strip().partition("=")
            env[key] = value.strip("'")
        assert "HUAWEICLOUD_SDK_REGION_IMS_CN_EAST_3" in env
        assert "HUAWEICLOUD_SDK_REGION_IMS_CN_SOUTH_1" not in env
        client = (
            ImsClient.new_builder()
            .with_credentials(BasicCredentials(env["HUAWEICLOUD_SDK_AK"], env["HUAWEICLOUD_SDK_SK"], "1" * 32))
            .with_endpoints([env["HUAWEICLOUD_SDK_REGION_IMS_CN_NORTH_4"]])
            .build()
        )
        names = {i.name for i in client.list_images(ListImagesRequest(imagetype="private")).images}
        assert "golden-ubuntu" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def _start(*args: str) -> subprocess.Popen:
    code = "from imsync.emulator.command import emulator; emulator()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _exports_and_hints(proc: subprocess.Popen) -> tuple[dict[str, str], list[str]]:
    assert proc.stdout is not None and proc.stderr is not None
    env: dict[str, str] = {}
    while "IMSYNC_SHARE_TARGETS" not in env:
        key, _, value = proc.stdout.readline()[len("export ") :].strip().partition("=")
        env[key] = value.strip("'")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    hints: list[str] = []
    while not hints or "apply --wait" not in hints[-1]:
        try:
            hints.append(lines.get(timeout=10).rstrip("\n"))
        except queue.Empty:
            break  # nothing more is coming
    return env, hints


def _imsync(env: dict[str, str], *args: str) -> dict:
    from click.testing import CliRunner

    from imsync.cli import cli

    result = CliRunner().invoke(cli, [*args, "--json"], env=env)
    return json.loads(result.stdout)


def test_command_seeds_the_demo_estate_by_default_and_says_what_to_try(tmp_path):
    proc = _start("--speed", "600")
    try:
        env, hints = _exports_and_hints(proc)
        assert "with the demo estate (12 images in cn-north-4; --empty for none)" in hints[0]
        assert hints[1:] == [
            "# try next (with the export lines above saved: imsync emulator > /tmp/imsync-emulator.env &):",
            "#   . /tmp/imsync-emulator.env",
            "#   imsync tag golden --regions cn-east-3,cn-south-1 --share partner",
            "#   imsync plan",
            "#   imsync apply --wait --poll 2s",
        ]
        tagged = _imsync(env, "tag", "golden", "--regions", "cn-east-3,cn-south-1", "--share", "partner")
        status = _imsync(env, "status")
        assert tagged["tags"] == {"imsync-regions": "cn-east-3_cn-south-1", "imsync-share": "partner"}
        assert {"golden", "web-base", "legacy"} <= {i["name"] for i in status["images"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "seed", "words"),
    [
        (["--speed", "0"], None, "error: --speed: 0 emulated seconds per real second: give a number above 0"),
        (["--speed", "-5"], None, "error: --speed: -5 emulated seconds"),
        (["--quota", "0"], None, "error: --quota: 0 private images per region: give 1 or more"),
        (["--regions", "north"], None, "error: --regions: 'north' is not a region ID like cn-north-4"),
        (["--regions", " , "], None, "error: --regions: name at least one region"),
        ([], {"images": {"cn-north-4": [{"name": "x", "tags": ["team.web"]}]}}, "tags: expected an object like"),
        ([], {"agencies": [{"name": "a", "grants": ["IMS Administrator"]}]}, "grants: expected an object like"),
        ([], {"agencies": [{"name": "a", "grants": {"cn-north-4": "IMS Administrator"}}]}, "a list of role names"),
        ([], {"settings": {"image_quota": "many"}}, "settings: image_quota must be a whole number"),
        ([], {"images": {"cn-north-4": [{"name": "x", "size_gb": "big"}]}}, "size_gb has the wrong type"),
        ([], {"images": {"cn-north-4": {"name": "x"}}}, "images[cn-north-4]: expected a list"),
        ([], "not json", "not valid JSON"),
    ],
)
def test_bad_options_and_seeds_are_one_line(tmp_path, args, seed, words):
    from click.testing import CliRunner

    from imsync.emulator.command import emulator

    if seed is not None:
        path = tmp_path / "seed.json"
        path.write_text(seed if isinstance(seed, str) else json.dumps(seed))
        args = [*args, "--seed", str(path)]

    result = CliRunner().invoke(emulator, args)

    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr
    assert "Traceback" not in result.output


def test_empty_starts_without_images():
    proc = _start("--empty", "--speed", "600", "--regions", "cn-north-4,cn-east-3")
    try:
        env, hints = _exports_and_hints(proc)
        assert "with no images (--empty)" in hints[0]
        assert any("imsync tag IMAGE_ID" in h for h in hints)  # no "golden" to point at
        assert env["IMSYNC_ALLOWED_REGIONS"] == "cn-east-3"
        assert _imsync(env, "status")["images"] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
