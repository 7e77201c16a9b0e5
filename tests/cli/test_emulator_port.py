"""`imsync emulator --port N`: exports saved in a file work after a restart; the hint names that file (point 12)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from imsync.cli import cli

REGIONS = "cn-north-4,cn-east-3,cn-south-1,ap-southeast-1"


def free_ports(count: int = 5) -> int:
    """A port with the `count` - 1 ports after it free too (IAM, then one per region)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
        if port + count > 65535:
            continue
        try:
            for offset in range(count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return port
    raise AssertionError("no 5 consecutive free ports")


def serve(port: int, exports: Path, hints: Path) -> subprocess.Popen:
    """`imsync emulator --port PORT > exports 2> hints`, until it has said what to try next."""
    code = "from imsync.emulator.command import emulator; emulator()"
    with exports.open("w") as out, hints.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "--port", str(port), "--regions", REGIONS], stdout=out, stderr=err
        )
    deadline = time.monotonic() + 60
    while "apply --wait" not in hints.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, hints.read_text()
        time.sleep(0.05)  # waits for another process, not for a clock
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def sourced(exports: Path) -> dict[str, str]:
    env = {}
    for line in exports.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def test_saved_exports_survive_a_restart_on_the_same_port(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("IMSYNC_", "HUAWEICLOUD_"))]:
        monkeypatch.delenv(name)
    port, exports, hints = free_ports(), tmp_path / "emulator.env", tmp_path / "hints.txt"
    stop(serve(port, exports, hints))
    saved = exports.read_text()

    proc = serve(port, tmp_path / "again.env", hints)
    try:
        doctor = CliRunner().invoke(cli, ["doctor", "--json"], env=sourced(exports))
    finally:
        stop(proc)

    assert (tmp_path / "again.env").read_text() == saved
    assert f"HUAWEICLOUD_SDK_IAM_ENDPOINT=http://127.0.0.1:{port}" in saved
    assert json.loads(doctor.stdout)["ok"] is True, doctor.stdout
    assert f"# try next (the export lines are in {tmp_path / 'again.env'}):" in hints.read_text()
    assert f"#   . {tmp_path / 'again.env'}" in hints.read_text()


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = CliRunner().invoke(cli, ["emulator", "--port", str(sock.getsockname()[1]), "--empty"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: --port: ports ") and "choose another --port" in result.stderr
