"""What goes in the zips: the function directories, the locked dependencies, the imsync modules handlers import."""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from imsync.packaging import PackagingError

LOCK_DIR = "requirements"

# Dependencies of the distribution that only the CLI uses: they are not in the functions' lock.
CLI_ONLY = frozenset({"click", "rich", "huaweicloudsdkiam", "tomli"})

# Parts of locked distributions that no function imports (paths in the unpacked tree; `*` matches
# one level). KEPT wins over DROPPED. tests/deploy/test_deploy_dropped_parts.py checks that none is imported.
DROPPED = (
    "pymongo",  # the Huawei SDK imports only `bson` from the pymongo wheel
    "pymongo-*.dist-info",  # and pymongo's metadata with it: nothing reads it
    "gridfs",  # pymongo's GridFS, same wheel
    "dns",  # dnspython: needed by pymongo itself, not by bson
    "dnspython-*.dist-info",
    # libyaml's C extension (0.8 MB): the SDK calls only yaml.safe_load, and only when ~/.huaweicloud/regions.yaml
    # exists; without it PyYAML falls back to its pure-Python loader (yaml/__init__.py catches the ImportError).
    "yaml/_yaml*.so",
    "_yaml",  # PyYAML's compatibility shim for the C extension above
    "aws_lambda_powertools/event_handler",  # imsync uses the Logger (which loads metrics, tracing and jmespath)
    "aws_lambda_powertools/utilities/*",
)
KEPT = ("aws_lambda_powertools/utilities/__init__.py", "aws_lambda_powertools/utilities/jmespath_utils")

# Left out of every zip: caches and the build tool's own bytecode, tests, pip's console scripts.
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests", "test"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def find_root(start: Path | None = None) -> Path:
    """The checkout holding shared/imsync and functions/: `start`, the current directory or this file's."""
    candidates = [start] if start else [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[3]]
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


def is_dropped(relative: str) -> bool:
    """Whether the path `relative` (in the unpacked tree) is one of the parts left out of the zips."""

    def matches(patterns: Iterable[str]) -> bool:
        return any(relative == p or relative.startswith(p + "/") or fnmatch.fnmatch(relative, p) for p in patterns)

    return matches(DROPPED) and not matches(KEPT)
