"""`imsync package`: build the deployment zips for FunctionGraph or AWS Lambda.

Layouts (under OUT/<platform>-py<version>/), one entry per directory of functions/:

- functiongraph: one self-contained zip per function: `handler.py` of that function at the root
  (handler `handler.handler`), the part of the `imsync` package the handlers import and the locked
  runtime dependencies beside it.
- aws: `layer.zip` with everything shared under `python/` (the directory Lambda puts on sys.path
  for layers), and one small zip per function holding only its handler directory.

What goes in, and why (docs/deploy.md has the measured sizes):

- The dependencies are exactly those of the lock file requirements/functions-py<version>.txt (made
  with uv, with hashes), fetched as manylinux2014 x86_64 wheels for the chosen CPython version, so
  the build works from macOS or Windows too and gives the same files on every machine.
- Parts of those distributions that no function imports (DROPPED) are left out. `python -X
  importtime` on the unpacked zips shows what the handlers load; tests/deploy fails if a newer
  release starts importing a dropped part.
- Of imsync itself, only the modules that the handlers import, directly or lazily inside a
  function, are shipped: the import graph is read from the sources (never the emulator, the CLI,
  the demo or the operator commands).
- Every module is precompiled to `__pycache__/*.cpython-3XX.pyc` in unchecked-hash mode: the
  import system then loads the .pyc without comparing the source's mtime, which an unzip does not
  reliably keep, and the function's code directory is read-only, so a rejected .pyc would be
  recompiled in memory at every cold start. The .py files stay for tracebacks. Compiling needs an
  interpreter of the target version (the .pyc format is version-specific); one is looked up on
  PATH and in pyenv, or given with --compile-with.
- Zip entries are sorted, with fixed times and modes, and the .pyc are written with a fixed hash
  seed: building the same commit twice gives byte-identical zips.
"""

from __future__ import annotations

import ast
import fnmatch
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

PLATFORMS = ("functiongraph", "aws")
PYTHONS = ("3.10", "3.12")  # the CPython versions both FunctionGraph and Lambda offer
PIP_PLATFORM = "manylinux2014_x86_64"
HANDLER = "handler.handler"  # module `handler` at the root of each function's code, function `handler`
LAYER_ZIP = "layer.zip"
LOCK_DIR = "requirements"
LOCK_SOURCE = "functions.in"

# Dependencies of the distribution that only the CLI uses: they are not in the functions' lock.
CLI_ONLY = frozenset({"click", "rich", "huaweicloudsdkiam", "tomli"})

# Parts of locked distributions that no function imports (paths in the unpacked tree; `*` matches
# one level). KEPT wins over DROPPED. tests/deploy/test_deploy_dropped_parts.py checks that none is imported.
DROPPED = (
    "pymongo",  # the Huawei SDK imports only `bson` from the pymongo wheel
    "gridfs",  # pymongo's GridFS, same wheel
    "dns",  # dnspython: needed by pymongo itself, not by bson
    "dnspython-*.dist-info",
    "aws_lambda_powertools/event_handler",  # imsync uses the Logger (which loads metrics, tracing and jmespath)
    "aws_lambda_powertools/utilities/*",
)
KEPT = ("aws_lambda_powertools/utilities/__init__.py", "aws_lambda_powertools/utilities/jmespath_utils")

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


def function_names(root: Path) -> list[str]:
    """Every directory of functions/, sorted; each must hold a handler.py."""
    directories = sorted(
        p for p in (root / "functions").iterdir() if p.is_dir() and p.name not in SKIPPED_DIRS and p.name[0] != "."
    )
    if not directories:
        raise PackagingError(f"no function directories in {root / 'functions'}")
    missing = [p.name for p in directories if not (p / "handler.py").is_file()]
    if missing:
        raise PackagingError(
            f"no handler.py in functions/{', functions/'.join(missing)}: every directory of functions/ is "
            "packaged as a function; add its handler.py or move the directory out"
        )
    return [p.name for p in directories]


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


def runtime_requirements(root: Path) -> list[str]:
    """The distribution's dependencies that the functions need at run time (what the lock is made from)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with (root / "pyproject.toml").open("rb") as handle:
        declared = list(tomllib.load(handle)["project"].get("dependencies", []))
    return [r for r in declared if _dist_name(r) not in CLI_ONLY]


def lock_file(root: Path, python: str) -> Path:
    """The hashed lock of the functions' dependencies for CPython `python`."""
    return root / LOCK_DIR / f"functions-py{python}.txt"


def _dist_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


def imported_modules(root: Path) -> list[str]:
    """The imsync modules the handlers import, directly or inside a function, as paths under shared/."""
    package_dir = root / "shared"
    sources = [root / "functions" / name / "handler.py" for name in function_names(root)]
    pending = sorted({name for source in sources for name in _imports(source, "")})
    found: set[Path] = set()
    while pending:
        name = pending.pop()
        if name.split(".")[0] != "imsync":
            continue
        for path in _module_files(package_dir, name):
            if path not in found:
                found.add(path)
                pending += _imports(path, ".".join(path.relative_to(package_dir).parent.parts))
    return sorted(p.relative_to(package_dir).as_posix() for p in found)


def shipped_imports(root: Path) -> list[str]:
    """The shipped imsync modules and every module they import anywhere, lazily too (for the checks)."""
    names: set[str] = set()
    for relative in imported_modules(root):
        names.add(relative.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
        package = ".".join(Path(relative).parent.parts)
        imports = _imports(root / "shared" / relative, package, from_names=False)
        names.update(n for n in imports if n.split(".")[0] != "imsync")
    return sorted(names)


def _module_files(package_dir: Path, name: str) -> list[Path]:
    """The file of module `name` and the __init__.py of each package above it (importing runs them all)."""
    parts = name.split(".")
    files = [package_dir.joinpath(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    module = package_dir.joinpath(*parts)
    files.append(module / "__init__.py" if module.is_dir() else module.with_suffix(".py"))
    return [f for f in files if f.is_file()]


def _imports(source: Path, package: str, from_names: bool = True) -> list[str]:
    """Modules `source` may import at run time: every import statement except those under TYPE_CHECKING.

    With `from_names`, `from pkg import name` also yields `pkg.name`, which may be a submodule.
    """
    names: list[str] = []
    nodes: list[ast.AST] = [ast.parse(source.read_text(encoding="utf-8"), str(source))]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            nodes += node.orelse  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.append(base)
            if from_names:
                names += [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
        nodes += ast.iter_child_nodes(node)
    return names


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, *(f"*{s}" for s in SKIPPED_SUFFIXES), "*.egg-info"),
        dirs_exist_ok=True,
    )


def _copy_files(source: Path, names: Iterable[str], target: Path) -> None:
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


def _install_locked(lock: Path, target: Path, python: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-deps",  # the lock is complete: every distribution is pinned, with its hashes
        "--require-hashes",
        "--target",
        str(target),
        "--platform",
        PIP_PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--requirement",
        str(lock),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PackagingError(
            f"pip could not fetch the locked dependencies ({lock.name}) for CPython {python} on {PIP_PLATFORM}:\n"
            f"{tail}\nCheck the network and pip's index settings, or build with --no-deps to package imsync alone."
        )


def is_dropped(relative: str) -> bool:
    """Whether the path `relative` (in the unpacked tree) is one of the parts left out of the zips."""

    def matches(patterns: Iterable[str]) -> bool:
        return any(relative == p or relative.startswith(p + "/") or fnmatch.fnmatch(relative, p) for p in patterns)

    return matches(DROPPED) and not matches(KEPT)


def _prune(tree: Path) -> list[str]:
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
                info.create_system = 3  # Unix, whatever the build machine: the modes above are Unix modes
                archive.writestr(info, path.read_bytes())
    return target


def human_size(size: int) -> str:
    """A byte count as the summary prints it: "0.9 kB" under a megabyte, else "5.6 MB"."""
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _target_interpreter(python: str, compile_with: str | None) -> str:
    interpreter = compile_with or find_interpreter(python)
    if not interpreter or _version_of(interpreter) != python:
        raise PackagingError(
            f"no Python {python} interpreter found to precompile the .pyc files (their format is "
            f"version-specific): install python{python}, pass --compile-with /path/to/python{python}, "
            "or --no-compile to ship sources only (slower cold start)"
        )
    return interpreter


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
    functions = function_names(root)
    lock = lock_file(root, python)
    if include_dependencies and not lock.is_file():
        raise PackagingError(
            f"no lock file {lock.relative_to(root)}: refresh the locks as docs/deploy.md says "
            "(uv pip compile ...), or build with --no-deps"
        )
    interpreter = _target_interpreter(python, compile_with) if compile_pyc else None

    echo(f"imsync package: {platform}, CPython {python}, functions: {', '.join(functions)}")
    target_dir = Path(out) / f"{platform}-py{python}"
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imsync-package-") as scratch:
        lib = Path(scratch) / "lib"
        lib.mkdir()
        if include_dependencies:
            echo(f"fetching the locked dependencies of {lock.relative_to(root)} (pip, {PIP_PLATFORM} wheels)")
            _install_locked(lock, lib, python)
            echo(f"left out, no function imports them: {', '.join(_prune(lib)) or 'nothing'}")
        else:
            echo("no dependencies (--no-deps): imsync and the handlers only")
        modules = imported_modules(root)
        echo(f"imsync: {len(modules)} modules that the handlers import")
        _copy_files(root / "shared", modules, lib)
        handlers = {}
        for function in functions:
            handlers[function] = Path(scratch) / "functions" / function
            _copy_tree(root / "functions" / function, handlers[function])
        if interpreter:
            echo(f"precompiling .pyc with {interpreter}")
            _compile(lib, interpreter, echo)
            for tree in handlers.values():
                _compile(tree, interpreter, echo)

        built: list[Path] = []
        if platform == "aws":
            built.append(_write_zip(target_dir / LAYER_ZIP, [(lib, "python/")]))
            built += [_write_zip(target_dir / f"{f}.zip", [(handlers[f], "")]) for f in functions]
        else:
            built += [_write_zip(target_dir / f"{f}.zip", [(handlers[f], ""), (lib, "")]) for f in functions]

    for path in built:
        with zipfile.ZipFile(path) as archive:
            count = len(archive.infolist())
        echo(f"{path}  {human_size(path.stat().st_size)}  ({count} files)")
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
