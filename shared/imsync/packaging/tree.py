"""The files of the zips, laid out in a scratch directory: locked wheels installed and pruned, copies, .pyc."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from glob import glob
from pathlib import Path

from imsync.packaging import PackagingError
from imsync.packaging.contents import DROPPED, SKIPPED_DIRS, SKIPPED_SUFFIXES, is_dropped

PIP_PLATFORM = "manylinux2014_x86_64"
UV_PLATFORM = "x86_64-manylinux2014"  # the same platform, as uv names it


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


def target_interpreter(python: str, compile_with: str | None) -> str:
    """The interpreter that precompiles for CPython `python`: `compile_with` if given, else one found."""
    interpreter = compile_with or find_interpreter(python)
    if not interpreter or _version_of(interpreter) != python:
        raise PackagingError(
            f"no Python {python} interpreter found to precompile the .pyc files (their format is "
            f"version-specific): install python{python}, pass --compile-with /path/to/python{python}, "
            "or --no-compile to ship sources only (slower cold start)"
        )
    return interpreter


def copy_tree(source: Path, target: Path) -> None:
    """Copy a function's directory, without caches, bytecode or build metadata."""
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, *(f"*{s}" for s in SKIPPED_SUFFIXES), "*.egg-info"),
        dirs_exist_ok=True,
    )


def copy_files(source: Path, names: Iterable[str], target: Path) -> None:
    """Copy the files `names` (paths relative to `source`) to the same paths under `target`."""
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


def installer_command(has_pip: bool, uv: str | None, python: str) -> list[str]:
    """The install command's start: this interpreter's pip, else uv (a `uv venv` or pipx has no pip), else an error.

    Both take the same target options; uv spells the platform as a target triple.
    """
    if has_pip:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--platform",
            PIP_PLATFORM,
            "--implementation",
            "cp",
        ]
    if uv:
        return [uv, "pip", "install", "--quiet", "--python", sys.executable, "--python-platform", UV_PLATFORM]
    raise PackagingError(
        f"neither pip nor uv is available to fetch the locked dependencies for CPython {python}: {sys.executable} "
        "has no pip module and no uv is on PATH (a `uv venv` or a pipx install has no pip). Install one of them "
        "(`python -m ensurepip`, or uv: https://docs.astral.sh/uv/), or build with --no-deps to package imsync alone."
    )


def _find_uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"  # installed into the same environment
    return str(beside) if beside.is_file() else shutil.which("uv")


def install_locked(lock: Path, target: Path, python: str) -> None:
    """Install the hashed lock into `target` as the target platform's wheels, whatever this machine is."""
    tool = installer_command(importlib.util.find_spec("pip") is not None, _find_uv(), python)
    command = [
        *tool,
        "--no-compile",
        "--no-deps",  # the lock is complete: every distribution is pinned, with its hashes
        "--require-hashes",
        "--target",
        str(target),
        "--only-binary=:all:",
        "--python-version",
        python,
        "--requirement",
        str(lock),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        name = "pip" if tool[0] == sys.executable else "uv"
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PackagingError(
            f"{name} could not fetch the locked dependencies ({lock.name}) for CPython {python} on {PIP_PLATFORM}:\n"
            f"{tail}\nCheck the network and {name}'s index settings, or build with --no-deps to package imsync alone."
        )


def prune(tree: Path) -> list[str]:
    """Remove what pip adds that the functions never use; return the DROPPED patterns that matched."""
    shutil.rmtree(tree / "bin", ignore_errors=True)  # console scripts, with this machine's shebang
    removed: list[str] = []
    for path in sorted(tree.rglob("*")):
        if not path.exists():
            continue  # inside a directory removed just before
        relative = path.relative_to(tree).as_posix()
        skipped_dir = path.is_dir() and path.name in SKIPPED_DIRS and path.parent != tree
        if is_dropped(relative) or skipped_dir or path.suffix in SKIPPED_SUFFIXES:
            removed += [p for p in DROPPED if p not in removed and (relative == p or fnmatch.fnmatch(relative, p))]
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return removed


def compile_tree(tree: Path, interpreter: str, echo: Callable[[str], None]) -> None:
    """Precompile every module of `tree` with `interpreter`, in unchecked-hash mode; warn on what fails."""
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
        "-s",  # record paths relative to the tree, not the scratch directory (the import system fixes them on load)
        str(tree),
        str(tree),
    ]
    # A fixed hash seed: sets of constants are marshalled in hash order, which otherwise changes per run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        # A third-party file that is not valid for this version (e.g. an old py2 helper) is
        # skipped by compileall; it is only a problem if something imports it.
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        echo(f"warning: some files in {tree.name} did not compile:\n{tail}")
