"""The real zips, built from the lock: contents, sizes, byte-identical rebuilds, and the smoke test.

The smoke test is the proof that a zip works on its own: each built zip is unpacked into an empty
folder and each handler is run from there by an isolated interpreter of the target version
(`python -I -S`: no site-packages, no PYTHON* variables, sys.path = the unpacked folder and the
standard library) against the emulator running in this test process. Its summary must be the same
as the in-repo handler's for the same events on an identically seeded emulator.

Building fetches the locked wheels from the package index, so the module is marked `network`
(CI sets IMSYNC_NETWORK_TESTS=1).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imsync import bootstrap
from imsync.domain.errors import RunFailed
from imsync.emulator import Emulator
from imsync.emulator.clock import ScaledClock
from imsync.function_files import handler as in_repo_handler
from imsync.packaging.build import LAYER_ZIP, PYTHONS, build_packages, install_dependencies
from imsync.packaging.contents import function_names, shipped_imports
from imsync.packaging.tree import find_interpreter
from imsync.service.claims import RecentCopies
from tests.helpers.events import load_event

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
MAX_ZIP_BYTES = 7_000_000  # 7 MB: each FunctionGraph zip and the AWS layer
HOME, DESTINATION = "cn-north-4", "cn-east-3"
# Never in a zip: the CLI's IAM SDK, pymongo without its bson, the CLI's own dependencies, and on
# AWS what the runtime provides.
NEVER_SHIPPED = ("huaweicloudsdkiam/", "pymongo/", "gridfs/", "dns/", "click/", "rich/", "boto3/", "botocore/")
NEVER_SHIPPED += ("pymongo-", "yaml/_yaml.", "_yaml/")  # pymongo's metadata, libyaml's C extension and its shim
NEVER_IMPORTED = ("huaweicloudsdkiam", "pymongo", "gridfs", "dns", "click", "rich", "imsync.emulator", "imsync.cli")

DRIVER = """
import json, sys
code_dirs, event_file, out_file = sys.argv[1].split("|"), sys.argv[2], sys.argv[3]
sys.path[:0] = code_dirs
import handler
with open(event_file) as f:
    event = json.load(f)
try:
    result = handler.handler(event, None)
except Exception as failed:  # a failed run raises (RunFailed) with its summary; the smoke test compares summaries
    if not hasattr(failed, "summary"):
        raise
    result = failed.summary
with open(out_file, "w") as f:
    json.dump({"result": result, "modules": sorted(sys.modules), "path": sys.path}, f)
"""


def _targets() -> list[tuple[str, str]]:
    found = [(version, find_interpreter(version)) for version in PYTHONS]
    return [(version, interpreter) for version, interpreter in found if interpreter]


TARGETS = _targets()
# Under xdist, the tests of one Python version run on one worker (tests/conftest.py, xdist_scope): it installs
# that version's lock once and builds both platforms from it; those without a version use the newest.
VERSIONS = [v for v, _ in TARGETS] or ["none"]


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Callable[[str], Path]:
    """The lock of each Python version, installed and pruned once; both platforms are built from it."""
    cache: dict[str, Path] = {}

    def tree(version: str) -> Path:
        if version not in cache:
            into = tmp_path_factory.mktemp(f"deps-{version}")
            cache[version] = install_dependencies(version, into, root=ROOT, echo=lambda _: None)
        return cache[version]

    return tree


@pytest.fixture(scope="session")
def build(tmp_path_factory, installed) -> Callable[[str, str], dict[str, Path]]:
    """Build (once per platform and version, from that version's installed lock) and return the zips by name."""
    cache: dict[tuple[str, str], dict[str, Path]] = {}

    def built(platform: str, version: str) -> dict[str, Path]:
        if (platform, version) not in cache:
            interpreter = find_interpreter(version)
            out = tmp_path_factory.mktemp(f"dist-{platform}-{version}")
            zips = build_packages(
                platform,
                version,
                out,
                dependencies=installed(version),
                compile_with=interpreter,
                root=ROOT,
                echo=lambda _: None,
            )
            cache[platform, version] = {p.name: p for p in zips}
        return cache[platform, version]

    return built


def _need_targets() -> None:
    if not TARGETS:
        pytest.skip(f"no CPython {' or '.join(PYTHONS)} interpreter here to build and run the zips with")


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.mark.parametrize("platform", ["functiongraph", "aws"])
@pytest.mark.parametrize("version", VERSIONS)
def test_zips_hold_only_what_the_functions_import_and_stay_under_7_mb(build, platform, version):
    _need_targets()
    zips = build(platform, version)
    shared = zips[LAYER_ZIP] if platform == "aws" else zips[f"{function_names(ROOT)[0]}.zip"]
    prefix = "python/" if platform == "aws" else ""
    names = _names(shared)
    for part in NEVER_SHIPPED:
        assert not [n for n in names if n.startswith(prefix + part)], f"{shared.name} holds {part}"
    for part in ("bson/", "huaweicloudsdkims/v2/", "huaweicloudsdksmn/", "aws_lambda_powertools/logging/", "yaml/"):
        assert [n for n in names if n.startswith(prefix + part)], f"{shared.name} lacks {part}"
    assert not [n for n in names if n.startswith(prefix + "imsync/emulator/")]
    heavy = [p for p in zips.values() if p.name == LAYER_ZIP or platform == "functiongraph"]
    for path in heavy:
        assert path.stat().st_size <= MAX_ZIP_BYTES, f"{path.name}: {path.stat().st_size:,} bytes"


def test_building_twice_gives_byte_identical_zips(build, tmp_path):
    """The second build is `imsync package`'s own path (it installs the lock itself): the same bytes as the
    build from the shared installed lock, so building both platforms from one install changes nothing."""
    _need_targets()
    version, interpreter = TARGETS[-1]
    first = build("functiongraph", version)
    again = build_packages(
        "functiongraph", version, tmp_path / "again", compile_with=interpreter, root=ROOT, echo=lambda _: None
    )
    for path in again:
        assert _digest(path) == _digest(first[path.name]), f"functiongraph {path.name} differs between two builds"


IMPORT_ALL = """
import importlib, json, sys
sys.path[:0] = sys.argv[1].split("|")
failed = {}
for module in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = repr(exc)
print(json.dumps(failed))
"""
# boto3 is imported only on AWS, where the Lambda runtime provides it, so no zip carries it.
RUNTIME_PROVIDED = ("boto3", "botocore")


@pytest.mark.parametrize("platform", ["functiongraph", "aws"])
def test_every_module_the_shipped_code_imports_loads_from_the_unpacked_zip(build, tmp_path, platform):
    """Lazily imported modules too (the SDK adapter, the SMN SDK when a topic is set): none is missing."""
    _need_targets()
    version, interpreter = TARGETS[-1]
    code = _code_dirs(platform, build(platform, version), tmp_path / "unpacked")
    modules = [m for m in shipped_imports(ROOT) if not m.startswith(RUNTIME_PROVIDED)]
    for function, paths in code.items():
        done = subprocess.run(
            [interpreter, "-I", "-S", "-c", IMPORT_ALL, "|".join(map(str, paths)), json.dumps(modules)],
            cwd=paths[0],
            env={"HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(done.stdout) == {}, f"{function}: cannot import from its zip"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------
# The smoke test


class Runner:
    """Runs one function's handler either from unpacked zips (isolated interpreter) or from the repo."""

    def __init__(self, cloud: Emulator, workdir: Path, code: dict[str, list[Path]] | None, interpreter: str) -> None:
        self.cloud, self.workdir, self.code, self.interpreter = cloud, workdir, code, interpreter
        self.runs = 0

    def __call__(self, function: str, event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        if self.code is None:
            return self._in_repo(function, event, env)
        self.runs += 1
        event_file, out_file = self.workdir / f"event-{self.runs}.json", self.workdir / f"out-{self.runs}.json"
        event_file.write_text(json.dumps(event))
        code_dirs = [str(p) for p in self.code[function]]
        done = subprocess.run(
            [
                self.interpreter,
                "-I",
                "-S",
                "-X",
                "importtime",
                "-c",
                DRIVER,
                "|".join(code_dirs),
                str(event_file),
                str(out_file),
            ],
            cwd=self.code[function][0],
            env={**env, "HOME": str(self.workdir)},  # the SDK writes ~/.huaweicloud/application_id
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{function} from its zip: {done.stderr[-3000:]}"
        answer = json.loads(out_file.read_text())
        assert not [p for p in answer["path"] if "site-packages" in p], answer["path"]
        assert answer["path"][: len(code_dirs)] == code_dirs
        imported = set(answer["modules"]) | set(re.findall(r"\|\s+([\w.]+)\s*$", done.stderr, re.MULTILINE))
        unwanted = sorted(m for m in imported if m.startswith(NEVER_IMPORTED))
        assert not unwanted, f"{function} imported {unwanted}"
        result: dict[str, Any] = answer["result"]
        return result

    def _in_repo(self, function: str, event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            # every invocation from a zip is a new process: give the in-repo one a fresh process memory too
            patch.setattr(bootstrap, "claims", RecentCopies())
            try:
                result: dict[str, Any] = in_repo_handler(function)(event, None)
            except RunFailed as failed:
                result = failed.summary
            return json.loads(json.dumps(result))


# The story runs on a clock that moves: one real second is SPEED emulated seconds. A function's real
# pause between two looks at IMS's member jobs (0.5 s for a share, 2 s for an accept) is then long
# enough for the job to end, so no run waits out its patience, and every share and accept finishes.
SPEED = 600.0


def _story(cloud: Emulator, run: Runner) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every function once, in the order a deployment meets them, the cloud idle between two; yields (function,
    summary). It ends with the replica shared and accepted."""
    home = cloud.region(HOME)
    golden = home.add_image("golden", tags={"imsync-regions": DESTINATION, "imsync-share": "partner"})
    home.add_image("nightly", tags={"imsync-regions": DESTINATION, "imsync-when": "schedule"})
    owner_env = {
        **cloud.env,
        "IMSYNC_HOME_REGION": HOME,
        "IMSYNC_SOURCE_REGIONS": HOME,
        "IMSYNC_ALLOWED_REGIONS": DESTINATION,
        "IMSYNC_AGENCY": "imsync-copy",
        "IMSYNC_SHARE_TARGETS": json.dumps({"partner": {DESTINATION: [cloud.recipient.projects[DESTINATION]]}}),
        "IMSYNC_HTTP_TIMEOUT": "5",
    }
    functions = function_names(ROOT)
    yield (
        "replicate_on_create",
        run("replicate_on_create", load_event("cts_create_image", image_id=golden.id), owner_env),
    )
    cloud.run_until_idle()
    yield "share_on_complete", run("share_on_complete", load_event("timer"), owner_env)
    cloud.run_until_idle()
    yield "scheduled_dr_copy", run("scheduled_dr_copy", load_event("timer"), owner_env)
    cloud.run_until_idle()
    if "accept_shares" in functions:
        recipient_env = {
            **cloud.env,
            "HUAWEICLOUD_SDK_AK": cloud.recipient.ak,
            "HUAWEICLOUD_SDK_SK": cloud.recipient.sk,
            "HUAWEICLOUD_SDK_DOMAIN_ID": cloud.recipient.domain_id,
            "IMSYNC_HOME_REGION": DESTINATION,
            "IMSYNC_ACCEPT_REGIONS": DESTINATION,
            "IMSYNC_TRUSTED_OWNERS": cloud.owner.projects[DESTINATION],
            "IMSYNC_HTTP_TIMEOUT": "5",
        }
        yield "accept_shares", run("accept_shares", load_event("timer"), recipient_env)
        cloud.run_until_idle()
    unknown = set(functions) - {"replicate_on_create", "share_on_complete", "scheduled_dr_copy", "accept_shares"}
    assert not unknown, f"the smoke test has no story for {sorted(unknown)} yet: add one"


def _outcomes(summaries: list[tuple[str, dict[str, Any]]], function: str) -> list[str]:
    return [r["outcome"] for f, s in summaries if f == function for r in s["results"]]


def _assert_story_finished(cloud: Emulator, summaries: list[tuple[str, dict[str, Any]]]) -> None:
    """A replica finished and shared (share_on_complete), then accepted by the partner (accept_shares)."""
    for function, summary in summaries:
        assert summary["ok"] is True and summary["results"], (function, summary)
    assert "started" in _outcomes(summaries, "replicate_on_create")
    assert "done" in _outcomes(summaries, "share_on_complete"), summaries
    assert _outcomes(summaries, "accept_shares") == ["accepted"], summaries
    partner = cloud.recipient.projects[DESTINATION]
    replicas = [i for i in cloud.region(DESTINATION).images() if partner in i.members]
    assert [r.members[partner] for r in replicas] == ["accepted"], replicas


ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32}\b")
VARYING_KEYS = frozenset({"request_id", "duration_ms", "elapsed_ms", "timestamp", "time"})


def _normalised(summaries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    """Generated IDs (images, jobs, projects) become <id1>, <id2>... in order of appearance; timings go."""
    text = json.dumps(_without_varying(summaries), sort_keys=True)
    numbering: dict[str, str] = {}
    return json.loads(ID.sub(lambda m: numbering.setdefault(m.group(0), f"<id{len(numbering) + 1}>"), text))


def _without_varying(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_varying(v) for k, v in value.items() if k not in VARYING_KEYS}
    if isinstance(value, list | tuple):
        return [_without_varying(v) for v in value]
    return value


def _unpack(path: Path, target: Path) -> Path:
    assert not target.exists() or not any(target.iterdir())
    with zipfile.ZipFile(path) as archive:
        archive.extractall(target)
    return target


def _code_dirs(platform: str, zips: dict[str, Path], where: Path) -> dict[str, list[Path]]:
    """Each function's sys.path entries after unpacking its zip (and, on AWS, the layer) into empty folders."""
    functions = function_names(ROOT)
    if platform == "functiongraph":
        return {f: [_unpack(zips[f"{f}.zip"], where / f)] for f in functions}
    layer = _unpack(zips[LAYER_ZIP], where / "layer") / "python"
    return {f: [_unpack(zips[f"{f}.zip"], where / f), layer] for f in functions}


@pytest.mark.parametrize("platform", ["functiongraph", "aws"])
@pytest.mark.parametrize("version", VERSIONS)
def test_smoke_each_unpacked_zip_answers_like_the_in_repo_handler(build, tmp_path, platform, version):
    _need_targets()
    interpreter = dict(TARGETS)[version]
    code = _code_dirs(platform, build(platform, version), tmp_path / "unpacked")
    with Emulator(regions=(HOME, DESTINATION), clock=ScaledClock(SPEED)) as cloud:
        from_zips = list(_story(cloud, Runner(cloud, tmp_path, code, interpreter)))
        _assert_story_finished(cloud, from_zips)
    with Emulator(regions=(HOME, DESTINATION), clock=ScaledClock(SPEED)) as cloud:
        in_repo = list(_story(cloud, Runner(cloud, tmp_path, None, interpreter)))
        _assert_story_finished(cloud, in_repo)

    assert {f for f, _ in from_zips} == set(function_names(ROOT))
    assert _normalised(from_zips) == _normalised(in_repo)
