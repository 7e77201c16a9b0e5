"""`imsync package`: build the deployment zips for FunctionGraph or AWS Lambda.

Layouts (under OUT/<platform>-py<version>/):

- functiongraph: one self-contained zip per function: `handler.py` of that function at the root
  (handler `handler.handler`), the `imsync` package and every runtime dependency beside it.
- aws: `layer.zip` with everything shared under `python/` (the directory Lambda puts on sys.path
  for layers), and one small zip per function holding only its handler directory.

Dependencies are fetched for the target, not for this machine: manylinux2014 x86_64 wheels for the
chosen CPython version, so the build works from macOS or Windows too. Every module is precompiled
to `__pycache__/*.cpython-3XX.pyc` in unchecked-hash mode: the import system then loads the .pyc
without comparing the source's mtime, which an unzip does not reliably keep (zip times have a
2-second resolution and some runtimes reset them), and the function's code directory is read-only,
so a rejected .pyc would be recompiled in memory at every cold start. The .py files stay in the
zip for tracebacks. Compiling needs an interpreter of the target version (the .pyc format is
version-specific); one is looked up on PATH and in pyenv, or given with --compile-with.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from glob import glob
from pathlib import Path

import click

from imsync.domain.errors import ImsyncError

FUNCTIONS = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")
PLATFORMS = ("functiongraph", "aws")
PYTHONS = ("3.10", "3.12")
PIP_PLATFORM = "manylinux2014_x86_64"
HANDLER = "handler.handler"  # module `handler` at the root of each function's code, function `handler`
LAYER_ZIP = "layer.zip"

# Only the CLI uses these; the functions never import them, so they stay out of the zips.
CLI_ONLY = frozenset({"click", "rich"})
# The Lambda Python runtime ships boto3; bundling it would only make the zip bigger and older.
RUNTIME_PROVIDED = {"aws": frozenset({"boto3", "botocore", "s3transfer"}), "functiongraph": frozenset()}

# Left out of every zip: caches and the build tool's own bytecode, tests, pip's console scripts.
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests", "test"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same inputs give the same zip


class PackagingError(ImsyncError):
    """The deployment zips could not be built; the message says why and what to do."""


def find_root(start: Path | None = None) -> Path:
    """The checkout holding shared/imsync and functions/: `start`, the current directory or this file's."""
    candidates = [start] if start else [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
    for path in candidates:
        if path and (path / "shared" / "imsync").is_dir() and (path / "functions").is_dir():
            return path
    raise PackagingError(
        "cannot find the imsync checkout (a directory with shared/imsync and functions/): "
        "run `imsync package` from the repository"
    )


def find_interpreter(python: str) -> str | None:
    """A Python of version `python` (e.g. "3.12") to compile the .pyc files with, or None."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == python:
        return sys.executable
    pyenv = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [
        shutil.which(f"python{python}"),
        *sorted(glob(f"{pyenv}/versions/{python}.*/bin/python{python}"), reverse=True),
        f"/usr/local/bin/python{python}",
        f"/usr/bin/python{python}",
    ]
    for candidate in candidates:
        if candidate and _version_of(candidate) == python:
            return candidate
    return None


def _version_of(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def runtime_requirements(root: Path, platform: str) -> list[str]:
    """The distribution's dependencies that the functions need at run time on `platform`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: fall back to the installed metadata
        from importlib.metadata import requires

        declared = [r for r in (requires("imsync") or []) if "extra ==" not in r]
    else:
        with (root / "pyproject.toml").open("rb") as handle:
            declared = list(tomllib.load(handle)["project"].get("dependencies", []))
    leave_out = CLI_ONLY | RUNTIME_PROVIDED[platform]
    return [r for r in declared if _dist_name(r) not in leave_out]


def _dist_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, *(f"*{s}" for s in SKIPPED_SUFFIXES), "*.egg-info"),
        dirs_exist_ok=True,
    )


def _install_dependencies(requirements: list[str], target: Path, python: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        PIP_PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        python,
        "--implementation",
        "cp",
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PackagingError(
            f"pip could not fetch the dependencies for CPython {python} on {PIP_PLATFORM}:\n{tail}\n"
            "Check the network and pip's index settings, or build with --no-deps to package imsync alone."
        )


def _prune(tree: Path, platform: str) -> None:
    """Remove what pip adds that the functions never use."""
    shutil.rmtree(tree / "bin", ignore_errors=True)  # console scripts, with this machine's shebang
    for name in RUNTIME_PROVIDED[platform]:
        shutil.rmtree(tree / name, ignore_errors=True)
    for directory in sorted(tree.rglob("*"), reverse=True):
        # tests/ inside third-party packages: never imported at run time; top-level ones stay
        if directory.is_dir() and directory.name in SKIPPED_DIRS and directory.parent != tree:
            shutil.rmtree(directory, ignore_errors=True)
    for path in tree.rglob("*"):
        if path.suffix in SKIPPED_SUFFIXES or path.name == "__pycache__":
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _compile(tree: Path, interpreter: str, echo: Callable[[str], None]) -> None:
    command = [
        interpreter,
        "-m",
        "compileall",
        "-q",
        "-q",  # only errors
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        str(tree),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # A third-party file that is not valid for this version (e.g. an old py2 helper) is
        # skipped by compileall; it is only a problem if something imports it.
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        echo(f"warning: some files in {tree.name} did not compile:\n{tail}")


def _files(tree: Path) -> Iterator[Path]:
    yield from sorted(p for p in tree.rglob("*") if p.is_file())


def _write_zip(target: Path, trees: Iterable[tuple[Path, str]]) -> Path:
    """Zip each (directory, prefix) pair; entries sorted, with fixed times, for reproducible builds."""
    target.unlink(missing_ok=True)
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for tree, prefix in trees:
            for path in _files(tree):
                name = prefix + path.relative_to(tree).as_posix()
                if name in seen:
                    raise PackagingError(f"{target.name}: two files would be stored as {name}")
                seen.add(name)
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
    return target


def build_packages(
    platform: str,
    python: str,
    out: Path,
    *,
    include_dependencies: bool = True,
    compile_pyc: bool = True,
    compile_with: str | None = None,
    root: Path | None = None,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Build the deployment zips for `platform` and CPython `python`; return their paths."""
    if platform not in PLATFORMS:
        raise PackagingError(f"platform '{platform}' is not one of {', '.join(PLATFORMS)}")
    if python not in PYTHONS:
        raise PackagingError(f"Python {python} is not a supported runtime; use one of {', '.join(PYTHONS)}")
    root = find_root(root)
    missing = [f for f in FUNCTIONS if not (root / "functions" / f / "handler.py").is_file()]
    if missing:
        raise PackagingError(f"no handler.py in functions/{', functions/'.join(missing)} under {root}")
    interpreter = None
    if compile_pyc:
        interpreter = compile_with or find_interpreter(python)
        if not interpreter or _version_of(interpreter) != python:
            raise PackagingError(
                f"no Python {python} interpreter found to precompile the .pyc files (their format is "
                f"version-specific): install python{python}, pass --compile-with /path/to/python{python}, "
                "or --no-compile to ship sources only (slower cold start)"
            )

    target_dir = Path(out) / f"{platform}-py{python}"
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imsync-package-") as scratch:
        lib = Path(scratch) / "lib"
        lib.mkdir()
        if include_dependencies:
            _install_dependencies(runtime_requirements(root, platform), lib, python)
            _prune(lib, platform)
        _copy_tree(root / "shared" / "imsync", lib / "imsync")
        handlers = {}
        for function in FUNCTIONS:
            handlers[function] = Path(scratch) / "functions" / function
            _copy_tree(root / "functions" / function, handlers[function])
        if interpreter:
            _compile(lib, interpreter, echo)
            for tree in handlers.values():
                _compile(tree, interpreter, echo)

        built: list[Path] = []
        if platform == "aws":
            built.append(_write_zip(target_dir / LAYER_ZIP, [(lib, "python/")]))
            built += [_write_zip(target_dir / f"{f}.zip", [(handlers[f], "")]) for f in FUNCTIONS]
        else:
            built += [_write_zip(target_dir / f"{f}.zip", [(handlers[f], ""), (lib, "")]) for f in FUNCTIONS]

    for path in built:
        with zipfile.ZipFile(path) as archive:
            count = len(archive.infolist())
        echo(f"{path}  {path.stat().st_size / 1_000_000:.1f} MB  ({count} files)")
    return built


@click.command("package")
@click.option("--platform", "platform", type=click.Choice(PLATFORMS), required=True, help="Where to deploy.")
@click.option(
    "--python",
    "python",
    type=click.Choice(PYTHONS),
    default="3.12",
    show_default=True,
    help="Runtime version.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Output directory; zips go to OUT/<platform>-py<version>/.",
)
@click.option("--no-deps", is_flag=True, help="Package imsync and the handlers without dependencies.")
@click.option("--no-compile", is_flag=True, help="Ship sources only, without precompiled .pyc.")
@click.option(
    "--compile-with",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Python interpreter of the target version used to precompile .pyc (found automatically if omitted).",
)
def package_command(
    platform: str, python: str, out: Path, no_deps: bool, no_compile: bool, compile_with: str | None
) -> None:
    """Build the deployment zip(s) for FunctionGraph or AWS Lambda and print their sizes."""
    try:
        build_packages(
            platform,
            python,
            out,
            include_dependencies=not no_deps,
            compile_pyc=not no_compile,
            compile_with=compile_with,
            echo=click.echo,
        )
    except PackagingError as exc:
        raise click.ClickException(str(exc)) from None
