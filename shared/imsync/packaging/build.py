"""The zips of one platform and Python version: their layout, reproducible entries, and the summary printed."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from imsync.packaging import PackagingError
from imsync.packaging.contents import find_root, function_names, imported_modules, lock_file
from imsync.packaging.tree import (
    PIP_PLATFORM,
    compile_tree,
    copy_files,
    copy_tree,
    install_locked,
    prune,
    target_interpreter,
)

PLATFORMS = ("functiongraph", "aws")
PYTHONS = ("3.10", "3.12")  # the CPython versions both FunctionGraph and Lambda offer
HANDLER = "handler.handler"  # module `handler` at the root of each function's code, function `handler`
LAYER_ZIP = "layer.zip"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same inputs give the same zip


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


def _checked_python(python: str) -> None:
    if python not in PYTHONS:
        raise PackagingError(f"Python {python} is not a supported runtime; use one of {', '.join(PYTHONS)}")


def _checked_lock(root: Path, python: str) -> Path:
    lock = lock_file(root, python)
    if not lock.is_file():
        raise PackagingError(
            f"no lock file {lock.relative_to(root)}: refresh the locks as docs/deploy.md says "
            "(uv pip compile ...), or build with --no-deps"
        )
    return lock


def install_dependencies(
    python: str, into: Path, *, root: Path | None = None, echo: Callable[[str], None] = print
) -> Path:
    """Install the lock of CPython `python` into the empty directory `into` and prune it; return `into`.

    The tree is the same for both platforms: pass it to build_packages(dependencies=...) to build each
    platform without fetching and installing the lock again.
    """
    _checked_python(python)
    root = find_root(root)
    lock = _checked_lock(root, python)
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    echo(f"fetching the locked dependencies of {lock.relative_to(root)} ({PIP_PLATFORM} wheels)")
    install_locked(lock, into, python)
    echo(f"left out, no function imports them: {', '.join(prune(into)) or 'nothing'}")
    return into


def build_packages(
    platform: str,
    python: str,
    out: Path,
    *,
    include_dependencies: bool = True,
    dependencies: Path | None = None,
    compile_pyc: bool = True,
    compile_with: str | None = None,
    root: Path | None = None,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Build the deployment zips for `platform` and CPython `python`; return their paths.

    `dependencies`: a tree made by install_dependencies for the same `python`, used instead of installing the lock.
    """
    if platform not in PLATFORMS:
        raise PackagingError(f"platform '{platform}' is not one of {', '.join(PLATFORMS)}")
    _checked_python(python)
    root = find_root(root)
    functions = function_names(root)
    if include_dependencies and dependencies is None:
        _checked_lock(root, python)
    interpreter = target_interpreter(python, compile_with) if compile_pyc else None

    echo(f"imsync package: {platform}, CPython {python}, functions: {', '.join(functions)}")
    target_dir = Path(out) / f"{platform}-py{python}"
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imsync-package-") as scratch:
        lib = Path(scratch) / "lib"
        lib.mkdir()
        if include_dependencies and dependencies is not None:
            echo(f"the locked dependencies, installed before: {dependencies}")
            shutil.copytree(dependencies, lib, dirs_exist_ok=True)
        elif include_dependencies:
            install_dependencies(python, lib, root=root, echo=echo)
        else:
            echo("no dependencies (--no-deps): imsync and the handlers only")
        modules = imported_modules(root)
        echo(f"imsync: {len(modules)} modules that the handlers import")
        copy_files(root / "shared", modules, lib)
        handlers = {}
        for function in functions:
            handlers[function] = Path(scratch) / "functions" / function
            copy_tree(root / "functions" / function, handlers[function])
        if interpreter:
            echo(f"precompiling .pyc with {interpreter}")
            compile_tree(lib, interpreter, echo)
            for tree in handlers.values():
                compile_tree(tree, interpreter, echo)

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
