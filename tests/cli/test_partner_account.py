"""`imsync emulator --partner-env FILE`: the recipient's side has its own settings (issue 23, point 3)."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time

from imsync.demo.estate import seed_demo_estate
from imsync.emulator.command import export_lines, partner_lines
from tests.cli.conftest import HOME


def source(lines: list[str], monkeypatch) -> None:
    """What `. FILE` does with the lines: unset, then export."""
    for line in lines:
        verb, _, rest = line.partition(" ")
        if verb == "unset":
            for name in rest.split():
                monkeypatch.delenv(name, raising=False)
        else:
            name, _, value = rest.partition("=")
            monkeypatch.setenv(name, shlex.split(value)[0] if value else "")


def test_the_owner_shares_and_the_partner_accepts_with_the_printed_settings(fast_cloud, monkeypatch, tmp_path, run):
    cloud = fast_cloud  # IMS adds members by an asynchronous job: its clock runs
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMSYNC_CONFIG", raising=False)
    seed_demo_estate(cloud)
    source(export_lines(cloud, "imsync-copy"), monkeypatch)
    assert run("tag", "app-1", "--regions", "cn-east-3", "--share", "partner").exit_code == 0
    assert run("apply").exit_code == 0  # shares the source images in cn-north-4 with the partner

    source(partner_lines(cloud), monkeypatch)
    result = run("accept")

    assert result.exit_code == 0, result.output
    partner = cloud.recipient.projects[HOME]
    shared = [i for i in cloud.region(HOME).images() if partner in i.members]
    assert shared and all(i.members[partner] == "accepted" for i in shared)
    assert "untrusted" not in result.stdout and "accepted" in result.stdout


def test_the_emulator_writes_the_partner_file_and_says_how_to_use_it(tmp_path):
    partner = tmp_path / "partner.env"
    code = "from imsync.emulator.command import emulator; emulator()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--empty", "--partner-env", str(partner)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        hints = [proc.stderr.readline() for _ in range(7)]
        deadline = time.monotonic() + 30
        while not partner.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # waits for another process, not for a clock
        text = partner.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert text.startswith("unset IMSYNC_SOURCE_REGIONS IMSYNC_ALLOWED_REGIONS IMSYNC_AGENCY IMSYNC_SHARE_TARGETS\n")
    assert "export IMSYNC_TRUSTED_OWNERS=" in text and "export HUAWEICLOUD_SDK_AK=" in text
    assert f"# then, as the partner account (the recipient): . {partner}; imsync accept\n" in hints
