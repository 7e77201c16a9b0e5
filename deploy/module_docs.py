"""The inputs and outputs tables of deploy/functiongraph/README.md, generated from variables.tf and outputs.tf.

    python deploy/module_docs.py          # rewrite the tables between the markers
    python deploy/module_docs.py --check  # exit 1 when they are stale (.ci/run and tests/deploy run this)

The job terraform-docs does, without downloading it: python-hcl2 (a dev dependency) reads the files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import hcl2

MODULE = Path(__file__).resolve().parent / "functiongraph"
README = MODULE / "README.md"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def _unquote(value: object) -> object:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _expression(value: object) -> str:
    """An HCL expression as python-hcl2 gives it ("${list(string)}"), as it is written in the file."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return re.sub(r"\s+", " ", text.replace('\\"', '"'))


def _default(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        unquoted = _unquote(value)
        return json.dumps(unquoted) if unquoted is not value else _expression(value)
    return json.dumps(_plain(value))


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return _unquote(value)


def _cell(text: str) -> str:
    return text.replace('\\"', '"').replace("|", "\\|").replace("\n", " ")


def _blocks(path: Path, kind: str) -> list[tuple[str, dict]]:
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    return [(str(_unquote(name)), body) for block in parsed.get(kind, []) for name, body in block.items()]


def tables(module: Path = MODULE) -> str:
    """The markdown between the markers: inputs (required first, then in file order), then outputs."""
    variables = _blocks(module / "variables.tf", "variable")
    ordered = [v for v in variables if "default" not in v[1]] + [v for v in variables if "default" in v[1]]
    lines = [
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|---|---|---|---|:---:|",
    ]
    for name, body in ordered:
        required = "default" not in body
        default = "" if required else f"`{_cell(_default(body['default']))}`"
        description = _cell(str(_unquote(body.get("description", ""))))
        kind = f"`{_cell(_expression(body.get('type', 'any')))}`"
        lines.append(f"| `{name}` | {description} | {kind} | {default} | {'yes' if required else 'no'} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in _blocks(module / "outputs.tf", "output"):
        lines.append(f"| `{name}` | {_cell(str(_unquote(body.get('description', ''))))} |")
    return "\n".join(lines)


def rendered(readme_text: str, generated: str) -> str:
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{README}: the markers {BEGIN} and {END} are missing; add them where the tables go")
    return readme_text[: start + len(BEGIN)] + "\n" + generated + "\n" + readme_text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README's tables are stale")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = rendered(current, tables())
    if current == wanted:
        return 0
    if args.check:
        print(f"{README}: the inputs/outputs tables are stale; run: python deploy/module_docs.py")
        return 1
    README.write_text(wanted, encoding="utf-8")
    print(f"rewrote the tables of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
