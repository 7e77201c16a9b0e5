"""`imsync package`: the zips' layout, the precompiled .pyc, and handlers importing from the unpacked zip.

Fetching dependencies needs the package index, so these tests build with include_dependencies=False
and let the dependencies come from this environment's site-packages; the full build is the
network-marked test at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from imsync.packaging import PackagingError
from imsync.packaging.build import LAYER_ZIP, build_packages, human_size
from imsync.packaging.command import package_command
from imsync.packaging.contents import function_names, imported_modules
from imsync.packaging.tree import find_interpreter, installer_command

FUNCTIONS = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")

STUB_HANDLER = '''"""Stand-in handler for the packaging test."""
from imsync.config import Settings


def handler(event, context):
    return {"home": Settings.from_env({}).home_region}
'''

# The functions must not need the CLI-only dependencies: block them while importing a handler.
IMPORT_HANDLER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"click", "rich", "boto3", "botocore"}:
            raise ImportError(f"{name} is not in the deployment zip")
sys.meta_path.insert(0, Block())
import handler, imsync
assert imsync.__file__.startswith(sys.argv[1]), imsync.__file__
assert callable(handler.handler)
print("ok")
"""


def _target_python() -> tuple[str, str]:
    for version in ("3.12", "3.10"):
        interpreter = find_interpreter(version)
        if interpreter:
            return version, interpreter
    pytest.skip("no Python 3.10 or 3.12 interpreter here to compile the .pyc with")


@pytest.fixture(scope="module")
def fake_checkout(tmp_path_factory) -> Path:
    """The real imsync package with stand-in handlers, so packaging is tested before the handlers exist."""
    root = tmp_path_factory.mktemp("checkout")
    real = Path(__file__).resolve().parents[2]
    shutil.copytree(real / "shared" / "imsync", root / "shared" / "imsync")
    shutil.copy(real / "pyproject.toml", root / "pyproject.toml")
    for function in FUNCTIONS:
        (root / "functions" / function).mkdir(parents=True)
        (root / "functions" / function / "handler.py").write_text(STUB_HANDLER)
        cache = root / "functions" / function / "__pycache__"
        cache.mkdir()
        (cache / "handler.cpython-311.pyc").write_bytes(b"stale")  # the build tool's own: must stay out
    return root


@pytest.fixture(scope="module")
def built(fake_checkout, tmp_path_factory):
    version, interpreter = _target_python()
    out = tmp_path_factory.mktemp("dist")
    zips = {
        platform: build_packages(
            platform,
            version,
            out,
            include_dependencies=False,
            compile_with=interpreter,
            root=fake_checkout,
            echo=lambda _: None,
        )
        for platform in ("functiongraph", "aws")
    }
    return version, interpreter, zips


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def _tag(version: str) -> str:
    return "cpython-" + version.replace(".", "")


def _unpack(path: Path, target: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(target)
    return target


def _import_handler(code_dir: Path, *extra: Path) -> subprocess.CompletedProcess[str]:
    path = [str(code_dir), *map(str, extra), sysconfig.get_paths()["purelib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-S", "-c", IMPORT_HANDLER, str(code_dir if not extra else extra[0])],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_functiongraph_zip_per_function_is_self_contained(built):
    version, _, zips = built
    assert [p.name for p in zips["functiongraph"]] == [f"{f}.zip" for f in FUNCTIONS]
    for path in zips["functiongraph"]:
        names = _names(path)
        assert "handler.py" in names
        assert f"__pycache__/handler.{_tag(version)}.pyc" in names
        assert {"imsync/__init__.py", "imsync/config.py", "imsync/domain/errors.py"} <= names
        assert f"imsync/__pycache__/config.{_tag(version)}.pyc" in names
        # only what the handlers import: never the packaging, CLI or emulator code
        assert not [n for n in names if n.startswith(("imsync/emulator/", "imsync/ops/")) or n == "imsync/cli.py"]
        assert "imsync/packaging/__init__.py" not in names
        assert not [n for n in names if "cpython-311" in n or n.endswith(".egg-info")]


def test_aws_layer_has_python_prefix_and_function_zips_hold_the_handler(built):
    version, _, zips = built
    layer, *functions = zips["aws"]
    assert layer.name == LAYER_ZIP
    names = _names(layer)
    assert names and all(n.startswith("python/") for n in names)
    assert f"python/imsync/__pycache__/config.{_tag(version)}.pyc" in names
    for function, path in zip(FUNCTIONS, functions, strict=True):
        assert path.name == f"{function}.zip"
        assert _names(path) == {"handler.py", f"__pycache__/handler.{_tag(version)}.pyc"}


def test_each_functiongraph_handler_imports_from_the_unpacked_zip(built, tmp_path):
    _, _, zips = built
    for path in zips["functiongraph"]:
        code = _unpack(path, tmp_path / path.stem)
        done = _import_handler(code)
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_each_aws_handler_imports_with_the_layer(built, tmp_path):
    _, _, zips = built
    layer = _unpack(zips["aws"][0], tmp_path / "layer") / "python"
    for path in zips["aws"][1:]:
        code = _unpack(path, tmp_path / path.stem)
        done = _import_handler(code, layer)
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_target_runtime_uses_the_pyc_without_checking_the_source(built, tmp_path):
    """Unchecked-hash .pyc: even a source changed after the build is not recompiled."""
    version, interpreter, zips = built
    code = _unpack(zips["functiongraph"][0], tmp_path / "fg")
    (code / "imsync" / "config.py").write_text("this is not python\n")
    done = subprocess.run(
        [interpreter, "-S", "-c", "import imsync.config as c; print(c.__cached__)"],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"config.{_tag(version)}.pyc")


def test_build_refuses_an_unknown_runtime(fake_checkout, tmp_path):
    with pytest.raises(PackagingError, match=r"3\.11"):
        build_packages("aws", "3.11", tmp_path, include_dependencies=False, root=fake_checkout)


def test_command_builds_and_prints_sizes(fake_checkout, tmp_path, monkeypatch):
    version, interpreter = _target_python()
    monkeypatch.chdir(fake_checkout)
    args = ["--platform", "aws", "--python", version, "--out", str(tmp_path), "--no-deps"]
    result = CliRunner().invoke(package_command, [*args, "--compile-with", interpreter])
    assert result.exit_code == 0, result.output
    sizes = [line.split("  ")[1] for line in result.output.splitlines() if line.endswith(" files)")]
    assert len(sizes) == 1 + len(FUNCTIONS)
    assert all(size.endswith(" kB") and size != "0.0 kB" for size in sizes), sizes  # small zips: their real size
    assert "functions: " + ", ".join(FUNCTIONS) in result.output  # says what it is doing
    assert "no dependencies (--no-deps)" in result.output
    assert (tmp_path / f"aws-py{version}" / LAYER_ZIP).is_file()


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0.0 kB"), (907, "0.9 kB"), (48_250, "48.2 kB"), (999_949, "999.9 kB"), (5_712_000, "5.7 MB")],
)
def test_sizes_are_shown_in_the_unit_that_fits(size, shown):
    assert human_size(size) == shown


def test_every_directory_of_functions_is_packaged(fake_checkout, tmp_path):
    """A fourth function (accept_shares) is packaged without naming it anywhere in the packaging code."""
    root = tmp_path / "checkout"
    shutil.copytree(fake_checkout, root)
    (root / "functions" / "accept_shares").mkdir()
    (root / "functions" / "accept_shares" / "handler.py").write_text(STUB_HANDLER)
    assert function_names(root) == sorted([*FUNCTIONS, "accept_shares"])
    built = build_packages(
        "functiongraph", "3.12", tmp_path / "out", include_dependencies=False, compile_pyc=False, root=root, echo=print
    )
    assert sorted(p.name for p in built) == sorted(f"{f}.zip" for f in [*FUNCTIONS, "accept_shares"])


def test_a_function_directory_without_handler_is_named(fake_checkout, tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(fake_checkout, root)
    (root / "functions" / "half_done").mkdir()
    with pytest.raises(PackagingError, match=r"functions/half_done.*handler\.py"):
        function_names(root)


def test_a_missing_lock_file_says_how_to_make_it(fake_checkout, tmp_path):
    with pytest.raises(PackagingError, match=r"requirements/functions-py3\.12\.txt.*docs/deploy\.md"):
        build_packages("functiongraph", "3.12", tmp_path, compile_pyc=False, root=fake_checkout, echo=print)


def test_imsync_modules_shipped_are_those_the_handlers_import(repo_root):
    shipped = imported_modules(repo_root)
    # lazily imported inside functions: the SDK adapter and the AWS adapter must be there
    assert {"imsync/adapters/huawei_ims.py", "imsync/adapters/aws.py", "imsync/bootstrap.py"} <= set(shipped)
    for left_out in (
        "imsync/cli.py",
        "imsync/demo/__init__.py",
        "imsync/doctor/__init__.py",
        "imsync/packaging/__init__.py",
    ):
        assert left_out not in shipped
    assert not [m for m in shipped if m.startswith(("imsync/emulator/", "imsync/ops/"))]
    assert "imsync/adapters/huawei_iam.py" not in shipped  # the functions never import huaweicloudsdkiam


def test_import_graph_follows_lazy_and_relative_imports_but_not_type_checking(tmp_path):
    package = tmp_path / "shared" / "imsync"
    (package / "sub").mkdir(parents=True)
    (tmp_path / "functions" / "f").mkdir(parents=True)
    (tmp_path / "functions" / "f" / "handler.py").write_text("from imsync.sub import a\n")
    files = {
        "__init__.py": "",
        "sub/__init__.py": "from . import helper\n",  # relative to the package, not to sub.a
        "sub/helper.py": "",
        "sub/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from imsync import typing_only\n"
        "def f():\n    from . import lazy\n",
        "sub/lazy.py": "from ..deep import leaf\n",
        "deep.py": "",
        "leaf.py": "",
        "typing_only.py": "",
        "unused.py": "",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    assert imported_modules(tmp_path) == [
        "imsync/__init__.py",
        "imsync/deep.py",
        "imsync/sub/__init__.py",
        "imsync/sub/a.py",
        "imsync/sub/helper.py",
        "imsync/sub/lazy.py",
    ]


def test_real_handlers_import_from_their_zips(repo_root, tmp_path):
    version, interpreter = _target_python()
    zips = build_packages(
        "functiongraph",
        version,
        tmp_path / "dist",
        include_dependencies=False,
        compile_with=interpreter,
        root=repo_root,
        echo=lambda _: None,
    )
    for path in zips:
        done = _import_handler(_unpack(path, tmp_path / path.stem))
        assert done.returncode == 0 and done.stdout.strip() == "ok", f"{path.name}: {done.stderr}"


# ------------------------------------------------------------------------------------------------
# The installer: pip, else uv, else the real cause


def test_the_lock_is_installed_with_pip_when_there_is_pip():
    command = installer_command(True, "/opt/uv", "3.12")
    assert command[1:4] == ["-m", "pip", "install"] and "manylinux2014_x86_64" in command


def test_without_pip_the_lock_is_installed_with_uv_for_the_same_platform():
    """A `uv venv` or a pipx install has no pip: uv installs the same manylinux2014 x86_64 wheels."""
    command = installer_command(False, "/opt/uv", "3.12")
    assert command[:3] == ["/opt/uv", "pip", "install"]
    assert command[command.index("--python-platform") + 1] == "x86_64-manylinux2014"


def test_without_pip_or_uv_the_error_names_the_cause_not_the_network(tmp_path):
    """With neither, building says so, instead of pip's "No module named pip ... Check the network"."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    lock = tmp_path / "functions-py3.12.txt"
    lock.write_text("")
    code = (
        "import sys; from pathlib import Path; from imsync.packaging import PackagingError\n"
        "from imsync.packaging.tree import install_locked\n"
        "try:\n    install_locked(Path(sys.argv[1]), Path(sys.argv[2]), '3.12')\n"
        "except PackagingError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [str(bare / "bin" / "python"), "-c", code, str(lock), str(tmp_path / "lib")],
        env={"PATH": str(bare / "bin"), "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "shared")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "neither pip nor uv" in done.stdout, done.stdout + done.stderr
    assert "--no-deps" in done.stdout and "Check the network" not in done.stdout
