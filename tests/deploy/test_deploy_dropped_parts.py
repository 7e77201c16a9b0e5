"""The parts of dependencies left out of the zips (packaging.contents.DROPPED) stay unimported by the function path.

The zips leave out pymongo without its bson, dnspython, and the Powertools utilities imsync does not
use. If a newer SDK or Powertools release starts importing one of them, these tests fail here, in
the development environment where those parts are installed, before a deployment would fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imsync.packaging.contents import is_dropped, shipped_imports

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: refuses every dropped module (and the CLI's IAM SDK) and records each
# attempt, even one that the importing code would catch; then imports what the functions may import.
PROBE = """
import importlib, importlib.abc, json, sys
from imsync.packaging.contents import is_dropped

attempts = []

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        path_name = name.replace(".", "/")
        if name.split(".")[0] == "huaweicloudsdkiam" or is_dropped(path_name):
            attempts.append(name)
            raise ImportError(f"{name} is left out of the deployment zips")
        return None

modules = json.loads(sys.argv[1])
sys.meta_path.insert(0, Refuse())
failed = {}
for module in modules:
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = repr(exc)
from imsync.observability import logger  # the Logger's own lazy paths: a line at every level
logger.info("probe", extra={"n": 1})
logger.warning("probe")
try:
    raise ValueError("probe")
except ValueError:
    logger.exception("probe")
print(json.dumps({"attempts": attempts, "failed": failed}))
"""


def _probe(modules: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_function_path_imports_no_dropped_part():
    modules = shipped_imports(ROOT)
    assert "huaweicloudsdkims.v2" in modules and "aws_lambda_powertools" in modules
    answer = _probe(modules)
    assert answer["attempts"] == [], f"now imported, so they must go back into the zips: {answer['attempts']}"
    assert answer["failed"] == {}


def test_the_probe_notices_an_import_of_a_dropped_part():
    """The same probe on a module that imports pymongo proper: the check is able to fail."""
    answer = _probe(["huaweicloudsdkcore", "pymongo", "aws_lambda_powertools.utilities.parser"])
    assert answer["attempts"] == ["pymongo", "aws_lambda_powertools.utilities.parser"]


@pytest.mark.parametrize(
    ("path", "dropped"),
    [
        ("pymongo/collection.py", True),
        ("bson/__init__.py", False),
        ("gridfs/__init__.py", True),
        ("dns/resolver.py", True),
        ("aws_lambda_powertools/utilities/parser/__init__.py", True),
        ("aws_lambda_powertools/utilities/serialization.py", True),
        ("aws_lambda_powertools/utilities/__init__.py", False),
        ("aws_lambda_powertools/utilities/jmespath_utils/__init__.py", False),
        ("aws_lambda_powertools/logging/logger.py", False),
        ("aws_lambda_powertools/event_handler/api_gateway.py", True),
        ("huaweicloudsdkcore/client.py", False),
        ("pymongo-4.18.2.dist-info", True),  # the orphan metadata of the dropped pymongo
        ("yaml/_yaml.cpython-312-x86_64-linux-gnu.so", True),  # libyaml: the pure-Python loader serves
        ("_yaml/__init__.py", True),
        ("yaml/__init__.py", False),
        ("yaml/cyaml.py", False),  # imported, and its ImportError caught, by yaml/__init__.py
    ],
)
def test_dropped_paths(path, dropped):
    assert is_dropped(path) is dropped
