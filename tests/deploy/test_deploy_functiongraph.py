"""deploy/functiongraph: the Terraform parsed with python-hcl2 (no provider can be downloaded here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from imsync.config import VARIABLES
from imsync.packaging import FUNCTIONS, HANDLER

TF_DIR = Path(__file__).resolve().parents[2] / "deploy" / "functiongraph"


def unquote(value: object) -> object:
    """python-hcl2 keeps the quotes of string literals; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load(name: str) -> dict:
    with (TF_DIR / name).open() as handle:
        return hcl2.load(handle)


@pytest.fixture(scope="module")
def tf() -> dict:
    merged: dict[str, list] = {}
    for path in sorted(TF_DIR.glob("*.tf")):
        for key, blocks in _load(path.name).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


@pytest.fixture(scope="module")
def variables(tf) -> dict[str, dict]:
    return {unquote(name): body for block in tf["variable"] for name, body in block.items()}


@pytest.fixture(scope="module")
def local_values(tf) -> dict:
    return {k: v for block in tf["locals"] for k, v in block.items() if not k.startswith("__")}


def resources(tf, kind: str) -> dict[str, dict]:
    found = {}
    for block in tf["resource"]:
        for rtype, named in block.items():
            if unquote(rtype) == kind:
                found.update({unquote(n): body for n, body in named.items()})
    return found


@pytest.fixture(scope="module")
def function(tf) -> dict:
    functions = resources(tf, "huaweicloud_fgs_function")
    assert list(functions) == ["imsync"], "one for_each resource makes the three functions"
    return functions["imsync"]


@pytest.fixture(scope="module")
def triggers(tf) -> dict[str, dict]:
    return resources(tf, "huaweicloud_fgs_function_trigger")


def default(variables, name: str) -> object:
    return unquote(variables[name]["default"])


def test_the_three_functions_with_their_handler(function, local_values):
    assert function["for_each"] == "${local.functions}"
    assert list(local_values["functions"]) == list(FUNCTIONS)
    assert unquote(function["handler"]) == HANDLER


def test_runtime_is_python_310_or_312(function, variables):
    assert unquote(function["runtime"]) == "Python${var.python_version}"
    assert default(variables, "python_version") in {"3.10", "3.12"}
    condition = variables["python_version"]["validation"][0]["condition"]
    assert re.findall(r'\\?"(3\.\d+)\\?"', condition) == ["3.10", "3.12"]


def test_code_is_the_packaged_zip_of_each_function(function, local_values):
    assert unquote(function["code_type"]) == "zip"
    assert unquote(function["code_filename"]) == "${each.key}.zip"
    assert "filebase64" in function["func_code"] and "local.package_path" in function["func_code"]
    assert "functiongraph-py${var.python_version}" in local_values["package_path"]


def test_runs_with_the_execution_agency(function, variables):
    assert function["agency"] == "${var.function_agency}"
    assert "default" not in variables["function_agency"]


def test_one_instance_at_a_time(function):
    assert unquote(function["max_instance_num"]) == "1"
    assert unquote(function["functiongraph_version"]) == "v2"  # max_instance_num needs v2


def test_every_imsync_setting_is_wired_from_a_variable(function, local_values, variables):
    assert function["user_data"] == "${jsonencode(local.environment)}"
    assert local_values["environment"].startswith("${merge(local.imsync_environment,")
    wired = local_values["imsync_environment"]
    assert set(wired) == set(VARIABLES)
    for name, value in wired.items():
        used = re.findall(r"var\.([a-z0-9_]+)", value)
        assert used, f"{name} is not set from a variable"
        assert all(v in variables for v in used), f"{name} uses an undeclared variable"
        if name != "IMSYNC_HOME_REGION":  # the home region is the region the functions run in
            assert used == [name.lower()], f"{name} should come from var.{name.lower()}"


def test_every_variable_is_described(variables):
    missing = [name for name, body in variables.items() if not unquote(body.get("description", ""))]
    assert not missing


def test_cts_trigger_on_image_operations(triggers, local_values):
    cts = triggers["image_events"]
    assert unquote(cts["type"]) == "CTS"
    assert 'huaweicloud_fgs_function.imsync["replicate_on_create"].urn' in cts["function_urn"]
    assert 'IMS:ims:${join(";", local.image_operations)}' in cts["event_data"].replace('\\"', '"')
    operations = [unquote(o) for o in local_values["image_operations"]]
    assert operations == ["createImage", "addTag", "batchTagsAction", "updateImage"]


@pytest.mark.parametrize(
    ("trigger", "function_name", "variable", "expected"),
    [
        ("dr_run", "scheduled_dr_copy", "dr_schedule", "1d"),
        ("completion_poll", "share_on_complete", "poll_schedule", "5m"),
    ],
)
def test_timers(triggers, variables, trigger, function_name, variable, expected):
    timer = triggers[trigger]
    assert unquote(timer["type"]) == "TIMER"
    assert f'huaweicloud_fgs_function.imsync["{function_name}"].urn' in timer["function_urn"]
    data = timer["event_data"].replace('\\"', '"')
    assert 'schedule_type = "Rate"' in data
    assert f"schedule = var.{variable}" in re.sub(r"\s+", " ", data)
    assert default(variables, variable) == expected


def test_tfvars_example_names_declared_variables_and_every_required_one(variables):
    example = {k for k in _load("terraform.tfvars.example") if not k.startswith("__")}
    assert set(example) <= set(variables)
    required = {name for name, body in variables.items() if "default" not in body}
    assert required <= set(example)


def test_terraform_fmt():
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", str(TF_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"not formatted: {done.stdout}"
