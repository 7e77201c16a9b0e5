"""docs/security.md and docs/reliability.md point at tests by path::name: each must exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


@pytest.mark.parametrize("doc", ["docs/security.md", "docs/reliability.md"])
def test_every_test_a_doc_names_exists(doc):
    references = REFERENCE.findall((ROOT / doc).read_text(encoding="utf-8"))
    assert references
    missing = [f"{p}::{n}" for p, n in references if f"def {n}(" not in (ROOT / p).read_text(encoding="utf-8")]
    assert missing == []
