"""Project metadata: version ranges, the functions' lock, one version number, licence and changelog."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import imsync
from imsync.packaging.build import PYTHONS
from imsync.packaging.contents import CLI_ONLY, lock_file, runtime_requirements

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@pytest.fixture(scope="module")
def project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["project"])


def _requirements(project: dict) -> dict[str, Requirement]:
    found = [Requirement(r) for r in project["dependencies"]]
    return {r.name.lower(): r for r in found}


def test_no_exact_pin_among_the_dependencies(project):
    """An exact pin breaks anyone who installs imsync beside another Huawei SDK package."""
    for name, requirement in _requirements(project).items():
        operators = {s.operator for s in requirement.specifier}
        assert "==" not in operators and "===" not in operators, name
        assert ">=" in operators, f"{name} has no lower bound"


def test_huawei_sdk_packages_share_one_range_with_an_upper_bound(project):
    huawei = {n: str(r.specifier) for n, r in _requirements(project).items() if n.startswith("huaweicloudsdk")}
    assert set(huawei) == {"huaweicloudsdkcore", "huaweicloudsdkims", "huaweicloudsdksmn", "huaweicloudsdkiam"}
    # 3.1.181: the oldest SDK that works (member listings page from it on); the range admits 3.1.181 to 3.1.x
    assert set(huawei.values()) == {"<3.2,>=3.1.181"}


def test_minimums_that_the_tests_need(project):
    runtime = _requirements(project)
    assert str(runtime["click"].specifier) == ">=8.2"  # 8.1 fails the CLI tests
    assert str(runtime["tomli"].marker) == 'python_version < "3.11"'
    dev = {Requirement(r).name.lower(): Requirement(r) for r in project["optional-dependencies"]["dev"]}
    assert str(dev["python-hcl2"].specifier) == ">=8.1"  # 4.3 to 7.3 read the HCL differently and fail
    for tool in ("ruff", "mypy"):  # new releases of these can fail an unchanged commit
        assert [s.operator for s in dev[tool].specifier] == ["=="], tool


def test_the_functions_lock_source_is_the_runtime_part_of_pyproject():
    listed = [
        line.strip() for line in (ROOT / "requirements" / "functions.in").read_text().splitlines() if line.strip()
    ]
    listed = [line for line in listed if not line.startswith("#")]
    assert listed == runtime_requirements(ROOT)
    assert not {Requirement(r).name for r in listed} & CLI_ONLY


@pytest.mark.parametrize("python", PYTHONS)
def test_each_lock_pins_every_package_with_hashes_within_the_ranges(python):
    lock = lock_file(ROOT, python)
    text = lock.read_text()
    assert f"--python-version {python}" in text  # made for this target, as docs/deploy.md says
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.MULTILINE))
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
    for line in runtime_requirements(ROOT):
        requirement = Requirement(line)
        assert requirement.name in pins, f"{requirement.name} missing from {lock.name}"
        assert requirement.specifier.contains(pins[requirement.name]), f"{lock.name}: {requirement.name}"
    assert not {n.lower() for n in pins} & (CLI_ONLY | {"boto3", "botocore"})


def test_one_source_for_the_version(project):
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("imsync") == imsync.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", imsync.__version__)


def test_changelog_names_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(imsync.__version__)}\]?", changelog, re.MULTILINE)


def test_license_file_is_the_declared_license(project):
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_classifiers_name_the_pythons_ci_runs(project):
    versions = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if re.search(r"Python :: 3\.\d+$", c)}
    assert versions == {"3.10", "3.11", "3.12"}
    ci = (ROOT / ".ci" / "run").read_text()
    assert all(f"find_python {v}" in ci for v in versions), "CI runs the tests on each Python the classifiers name"


def test_ci_minimums_pin_the_lower_bounds():
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "minimums.py")], capture_output=True, text=True, check=True, timeout=60
    )
    lines = done.stdout.splitlines()
    assert "huaweicloudsdkcore==3.1.181" in lines and "click==8.2" in lines and "python-hcl2==8.1" in lines
    assert "tomli==2.0; python_version < '3.11'" in lines
    assert "boto3==1.34" in lines and "requests==2.31" in lines  # the AWS adapters and the SDK adapter's import
