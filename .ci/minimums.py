"""Print the lower bound of every runtime dependency (and python-hcl2) as a pip/uv constraint.

CI installs imsync with these constraints on Python 3.10, so the declared minimums are tested, not
assumed. Run from the repository root: `python .ci/minimums.py > minimums.txt`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Besides the runtime dependencies: the dev requirements whose minimums the issue tracker asked to prove.
ALSO = ("python-hcl2", "boto3")  # boto3: imsync's AWS adapters are tested at its lower bound too


def declared(pyproject: Path) -> list[str]:
    """[project.dependencies] and the `dev` requirements named in ALSO (read without tomllib: 3.10 runs this)."""
    text = pyproject.read_text(encoding="utf-8")
    runtime, dev = _toml_list(text, "dependencies"), _toml_list(text, "dev")
    return [*runtime, *(r for r in dev if _name(r) in ALSO)]


def _toml_list(text: str, key: str) -> list[str]:
    body = re.search(rf"^{key} = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    return re.findall(r'^\s*"([^"]+)"', body.group(1), re.MULTILINE) if body else []


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def minimum(requirement: str) -> str | None:
    """`name>=1.2,<2; marker` -> `name==1.2; marker`; None when there is no lower bound."""
    spec, _, marker = requirement.partition(";")
    lower = re.search(r">=\s*([0-9][^,\s]*)", spec)
    if not lower:
        return None
    pinned = f"{_name(spec)}=={lower.group(1)}"
    return f"{pinned}; {marker.strip()}" if marker.strip() else pinned


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    for requirement in declared(root / "pyproject.toml"):
        pinned = minimum(requirement)
        if pinned:
            print(pinned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
