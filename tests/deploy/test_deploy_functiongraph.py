"""deploy/functiongraph (the module) and examples/ (its callers), parsed with python-hcl2.

No provider can be downloaded here, so `terraform validate` cannot run; the validation rules are
evaluated with `terraform console` in an empty directory instead, which needs no provider.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from imsync.config import VARIABLES
from imsync.packaging.build import HANDLER
from imsync.packaging.contents import function_names

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "deploy" / "functiongraph"
EXAMPLES = ROOT / "examples"
OWNER_FUNCTIONS = ["replicate_on_create", "scheduled_dr_copy", "share_on_complete"]
ALL_FUNCTIONS = [*OWNER_FUNCTIONS, "accept_shares"]
# Settings of the recipient side and of notifications (README "Configuration"), wired like the others.
NEW_SETTINGS = {"IMSYNC_TRUSTED_OWNERS", "IMSYNC_ACCEPT_REGIONS", "IMSYNC_STUCK_AFTER_HOURS", "IMSYNC_SMN_TOPIC_URN"}


def unquote(value: object) -> object:
    """python-hcl2 keeps the quotes of string literals; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_dir(directory: Path) -> dict[str, list]:
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in hcl2.load(handle).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


@pytest.fixture(scope="module")
def tf() -> dict:
    return load_dir(TF_DIR)


def named(tf: dict, kind: str) -> dict[str, dict]:
    return {unquote(name): body for block in tf.get(kind, []) for name, body in block.items()}


@pytest.fixture(scope="module")
def variables(tf) -> dict[str, dict]:
    return named(tf, "variable")


@pytest.fixture(scope="module")
def local_values(tf) -> dict:
    return {k: v for block in tf["locals"] for k, v in block.items() if not k.startswith("__")}


def resources(tf, kind: str) -> dict[str, dict]:
    found = {}
    for block in tf["resource"]:
        for rtype, entries in block.items():
            if unquote(rtype) == kind:
                found.update({unquote(n): body for n, body in entries.items()})
    return found


@pytest.fixture(scope="module")
def function(tf) -> dict:
    functions = resources(tf, "huaweicloud_fgs_function")
    assert list(functions) == ["imsync"], "one for_each resource makes the functions"
    return functions["imsync"]


@pytest.fixture(scope="module")
def triggers(tf) -> dict[str, dict]:
    return resources(tf, "huaweicloud_fgs_function_trigger")


def default(variables, name: str) -> object:
    value = unquote(variables[name]["default"])
    literals = {"true": True, "false": False, "null": None}  # python-hcl2 8.1 gives these as text
    return literals.get(value, value) if isinstance(value, str) else value


def flat(value: object) -> str:
    """An HCL expression as one line, with the escaped quotes of nested strings undone."""
    return re.sub(r"\s+", " ", str(value).replace('\\"', '"'))


# ------------------------------------------------------------------------------------------------
# A module others can call


def test_the_module_configures_no_provider(tf):
    """With a provider block inside, a module cannot be used with for_each or count."""
    assert "provider" not in tf
    (terraform,) = tf["terraform"]
    assert "huaweicloud" in terraform["required_providers"][0]


def test_each_function_directory_is_a_function_of_the_module(local_values):
    assert list(local_values["all_functions"]) == ALL_FUNCTIONS
    present = set(function_names(ROOT))
    assert set(OWNER_FUNCTIONS) <= present
    assert present <= set(ALL_FUNCTIONS), f"functions/ has {present - set(ALL_FUNCTIONS)} the module does not deploy"


def test_the_role_selects_the_functions(local_values, variables, function):
    roles = local_values["role_functions"]
    assert [unquote(f) for f in roles["owner"]] == OWNER_FUNCTIONS
    assert [unquote(f) for f in roles["recipient"]] == ["accept_shares"]
    assert [unquote(f) for f in roles["both"]] == ALL_FUNCTIONS
    assert default(variables, "role") == "owner"
    assert "local.role_functions[var.role]" in local_values["functions"]
    assert function["for_each"] == "${local.functions}"


def test_handler_and_runtime(function, variables):
    assert unquote(function["handler"]) == HANDLER
    assert unquote(function["runtime"]) == "Python${var.python_version}"
    assert default(variables, "python_version") in {"3.10", "3.12"}
    condition = variables["python_version"]["validation"][0]["condition"]
    assert re.findall(r'\\?"(3\.\d+)\\?"', condition) == ["3.10", "3.12"]


def test_code_is_the_packaged_zip_of_each_function(function, local_values, variables):
    assert unquote(function["code_type"]) == "zip"
    assert unquote(function["code_filename"]) == "${each.key}.zip"
    assert "filebase64" in function["func_code"] and "local.package_path" in function["func_code"]
    assert "functiongraph-py${var.python_version}" in local_values["package_path"]
    assert "default" not in variables["package_dir"], "relative to the caller: every caller says where"


def test_runs_with_the_execution_agency(function, variables, local_values):
    assert function["agency"] == "${local.function_agency}"
    assert "default" not in variables["function_agency"]
    chosen = flat(local_values["function_agency"])
    assert "huaweicloud_identity_agency.function[0].name" in chosen and "var.function_agency" in chosen


def test_one_instance_at_a_time(function):
    assert unquote(function["max_instance_num"]) == "1"
    assert unquote(function["functiongraph_version"]) == "v2"  # max_instance_num needs v2


def test_every_imsync_setting_is_wired_from_a_variable(function, local_values, variables):
    assert function["user_data"] == "${jsonencode(local.environment)}"
    assert local_values["environment"].startswith("${merge(local.imsync_environment,")
    wired = local_values["imsync_environment"]
    assert set(wired) == set(VARIABLES) | NEW_SETTINGS
    for name, value in wired.items():
        if name == "IMSYNC_SMN_TOPIC_URN":  # the created topic, or the one given
            assert value == "${local.smn_topic_urn}"
            continue
        used = re.findall(r"var\.([a-z0-9_]+)", value)
        assert used, f"{name} is not set from a variable"
        assert all(v in variables for v in used), f"{name} uses an undeclared variable"
        if name == "IMSYNC_ACCEPT_SCHEDULE":  # the accept timer's own rate, so the two never disagree
            assert used == ["accept_schedule"]
        elif name != "IMSYNC_HOME_REGION":  # the home region is the region the functions run in
            assert used == [name.lower()], f"{name} should come from var.{name.lower()}"


def test_every_variable_is_described(variables):
    missing = [name for name, body in variables.items() if not unquote(body.get("description", ""))]
    assert not missing


def test_owner_and_recipient_requirements_are_checked_before_apply(function):
    conditions = [flat(p["condition"]) for p in function["lifecycle"][0]["precondition"]]
    assert any('var.imsync_agency != ""' in c for c in conditions)
    assert any("length(var.imsync_trusted_owners) > 0" in c for c in conditions)


# ------------------------------------------------------------------------------------------------
# Triggers


def test_cts_trigger_on_image_operations_for_the_owner(triggers, local_values):
    cts = triggers["image_events"]
    assert unquote(cts["type"]) == "CTS"
    assert cts["count"] == "${local.owner ? 1 : 0}"
    assert 'huaweicloud_fgs_function.imsync["replicate_on_create"].urn' in cts["function_urn"]
    assert 'IMS:ims:${join(";", local.image_operations)}' in flat(cts["event_data"])
    operations = [unquote(o) for o in local_values["image_operations"]]
    assert operations == ["createImage", "addTag", "batchTagsAction", "updateImage"]


@pytest.mark.parametrize(
    ("timer", "function_name", "variable", "expected"),
    [
        ("dr_run", "scheduled_dr_copy", "dr_schedule", "1d"),
        ("completion_poll", "share_on_complete", "poll_schedule", "1m"),  # imsync's delay per step under a minute
        ("accept_shares", "accept_shares", "accept_schedule", "1m"),
    ],
)
def test_timers(triggers, local_values, variables, timer, function_name, variable, expected):
    resource = triggers["timer"]
    assert unquote(resource["type"]) == "TIMER"
    assert resource["for_each"] == "${local.timers}"
    assert "huaweicloud_fgs_function.imsync[each.value.function].urn" in resource["function_urn"]
    data = flat(resource["event_data"])
    assert 'schedule_type = "Rate"' in data and "schedule = each.value.schedule" in data
    entry = local_values["all_timers"][timer]
    assert unquote(entry["function"]) == function_name and entry["schedule"] == f"${{var.{variable}}}"
    assert default(variables, variable) == expected
    assert "contains(keys(local.functions), timer.function)" in local_values["timers"]


def test_existing_deployments_keep_their_triggers(tf):
    moves = {(m["from"], m["to"]) for m in tf["moved"]}
    assert ("${huaweicloud_fgs_function_trigger.dr_run}", '${huaweicloud_fgs_function_trigger.timer["dr_run"]}') in {
        (f.replace('\\"', '"'), t.replace('\\"', '"')) for f, t in moves
    }
    assert len(moves) == 3


RATE_VARIABLES = ["dr_schedule", "poll_schedule", "accept_schedule"]
ACCEPTED = ["1m", "5m", "60m", "1h", "24h", "1d", "30d"]
REFUSED = ["0m", "61m", "0h", "25h", "0d", "31d", "90m", "1w", "5", "m", "05m", " 5m"]


@pytest.mark.parametrize("variable", RATE_VARIABLES)
def test_timer_rates_are_those_functiongraph_accepts(variables, variable, tmp_path):
    """1-60 minutes, 1-24 hours, 1-30 days: the rule itself, evaluated by terraform."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    condition = flat(variables[variable]["validation"][0]["condition"])
    expression = condition.removeprefix("${").removesuffix("}").replace(f"var.{variable}", "s")
    samples = json.dumps(ACCEPTED + REFUSED)
    done = subprocess.run(
        ["terraform", "console"],
        input=f"jsonencode([for s in {samples} : {expression}])\n",
        cwd=tmp_path,  # empty: no configuration, so no provider is needed
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    verdicts = json.loads(json.loads(done.stdout.strip()))
    assert dict(zip(ACCEPTED + REFUSED, verdicts, strict=True)) == {s: s in ACCEPTED for s in ACCEPTED + REFUSED}


# ------------------------------------------------------------------------------------------------
# Agencies, notifications, alarm


def test_agencies_are_created_only_when_asked(tf, variables):
    agencies = resources(tf, "huaweicloud_identity_agency")
    assert default(variables, "create_agencies") is False
    function_agency, copy_agency = agencies["function"], agencies["copy"]
    assert function_agency["count"] == "${var.create_agencies ? 1 : 0}"
    assert copy_agency["count"] == "${var.create_agencies && local.owner ? 1 : 0}"
    # the provider's documented argument; delegated_service_name is internal and undocumented since 2022
    assert unquote(function_agency["delegated_domain_name"]) == "op_svc_cff"  # FunctionGraph
    assert unquote(copy_agency["delegated_domain_name"]) == "op_svc_ims"  # IMS
    assert "delegated_service_name" not in function_agency and "delegated_service_name" not in copy_agency
    # region by region: IMS ignores a copy-agency grant on "all projects"
    for agency in (function_agency, copy_agency):
        assert [unquote(k) for k in agency["dynamic"][0] if not k.startswith("__")] == ["project_role"]
        assert "all_resources_roles" not in agency
    (role,) = function_agency["dynamic"][0].values()
    assert (
        flat(role["content"][0]["roles"])
        == "${project_role.value == var.region ? local.home_roles : var.function_agency_roles}"
    )


def test_the_created_function_agency_holds_the_cts_triggers_rights_in_the_home_region(local_values, variables):
    """FunctionGraph's CTS trigger needs CTS rights in the function's agency: granted, not left to a manual step."""
    assert [unquote(r) for r in default(variables, "cts_trigger_roles")] == ["CTS Administrator"]
    home = flat(local_values["home_roles"])
    assert "local.owner ? var.cts_trigger_roles : []" in home  # the trigger is the owner's
    assert "local.has_topic ? var.notification_roles : []" in home  # SMN publish rights only with a topic
    assert "var.function_agency_roles" in home


def test_notifications_topic_and_email_are_optional_and_feed_the_functions(tf, variables, local_values):
    topic = resources(tf, "huaweicloud_smn_topic")["notifications"]
    email = resources(tf, "huaweicloud_smn_subscription")["email"]
    assert topic["count"] == "${var.create_notification_topic ? 1 : 0}"
    assert default(variables, "create_notification_topic") is False
    assert unquote(email["protocol"]) == "email"
    assert flat(email["count"]) == '${var.create_notification_topic && var.notification_email != "" ? 1 : 0}'
    chosen = flat(local_values["smn_topic_urn"])
    assert "huaweicloud_smn_topic.notifications[0].topic_urn" in chosen and "var.notification_topic_urn" in chosen


def test_error_alarm_is_on_when_there_is_a_topic_and_can_be_switched(tf, variables, local_values):
    alarm = resources(tf, "huaweicloud_ces_alarmrule")["function_errors"]
    assert default(variables, "error_alarm") is None  # null: decided by the topic
    assert flat(local_values["error_alarm"]) == "${var.error_alarm == null ? local.has_topic : var.error_alarm}"
    assert flat(local_values["has_topic"]) == '${var.create_notification_topic || var.notification_topic_urn != ""}'
    assert flat(alarm["for_each"]) == "${local.error_alarm ? local.functions : {}}"
    assert unquote(alarm["metric"][0]["namespace"]) == "SYS.FunctionGraph"
    (condition,) = alarm["condition"]
    assert unquote(condition["metric_name"]) == "failcount"
    assert unquote(condition["unit"]) == "Count"  # FunctionGraph's metrics page: failcount is in Count
    dimension = alarm["resources"][0]["dimensions"][0]
    assert unquote(dimension["name"]) == "package-functionname"
    assert "default-${huaweicloud_fgs_function.imsync[each.key].name}" in dimension["value"]


def test_a_failed_asynchronous_invocation_goes_to_the_topic(tf, variables):
    """Every trigger invokes asynchronously: after its retries, a failed invocation is sent to the SMN topic."""
    config = resources(tf, "huaweicloud_fgs_async_invoke_configuration")["failures"]
    assert flat(config["for_each"]) == "${local.has_topic ? local.functions : {}}"
    assert "huaweicloud_fgs_function.imsync[each.key].urn" in config["function_urn"]
    (failure,) = config["on_failure"]
    assert unquote(failure["destination"]) == "SMN"
    assert flat(failure["param"]) == "${jsonencode({topic_urn = local.smn_topic_urn})}"
    assert config["max_async_retry_attempts"] == "${var.async_retry_attempts}"
    assert default(variables, "async_retry_attempts") == 2
    assert 1 <= config["max_async_event_age_in_seconds"] <= 86400  # the provider's range


# ------------------------------------------------------------------------------------------------
# The examples: complete roots that call the module


def module_call(example: str) -> dict:
    root = load_dir(EXAMPLES / example)
    (call,) = named(root, "module").values()
    assert "huaweicloud" in str(root["provider"]), "the root, not the module, configures the provider"
    return call


@pytest.mark.parametrize(("example", "role"), [("owner", "owner"), ("recipient", "recipient")])
def test_examples_call_the_module_with_declared_variables(example, role, variables):
    call = module_call(example)
    assert (EXAMPLES / example / unquote(call["source"])).resolve() == TF_DIR
    assert unquote(call["role"]) == role
    given = {k for k in call if k != "source" and not k.startswith("__")}
    assert given <= set(variables), f"{example} passes undeclared {given - set(variables)}"
    required = {name for name, body in variables.items() if "default" not in body}
    assert required <= given, f"{example} misses {required - given}"
    assert "path.root" in call["package_dir"]


@pytest.mark.parametrize("example", ["owner", "recipient"])
def test_example_tfvars_set_declared_variables_and_every_required_one(example):
    root_variables = named(load_dir(EXAMPLES / example), "variable")
    with (EXAMPLES / example / "terraform.tfvars.example").open() as handle:
        example_values = {k for k in hcl2.load(handle) if not k.startswith("__")}
    assert example_values <= set(root_variables)
    required = {name for name, body in root_variables.items() if "default" not in body}
    assert required <= example_values


def test_terraform_fmt():
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    for directory in (TF_DIR, EXAMPLES):
        done = subprocess.run(
            ["terraform", "fmt", "-check", "-recursive", str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"not formatted: {done.stdout}"


# ------------------------------------------------------------------------------------------------
# The provider bound: each argument against the release that introduced it

PROVIDER_ARGUMENTS = TF_DIR / "provider_arguments.json"
META_ARGUMENTS = {"count", "for_each", "lifecycle", "depends_on", "provider"}


def _arguments(body: dict, prefix: str = "") -> set[str]:
    """The argument paths a resource block sets: `condition.unit` for `unit` inside a `condition` block."""
    found: set[str] = set()
    for key, value in body.items():
        if key.startswith("__") or (not prefix and key in META_ARGUMENTS):
            continue
        if key == "dynamic":
            for block in value:
                for name, dynamic in block.items():
                    found.add(prefix + unquote(name))
                    for content in dynamic.get("content", []):
                        found |= _arguments(content, f"{prefix}{unquote(name)}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            found.add(prefix + key)
            for nested in value:
                found |= _arguments(nested, f"{prefix}{key}.")
        else:
            found.add(prefix + key)
    return found


def used_arguments(*directories: Path) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for directory in directories:
        for block in load_dir(directory).get("resource", []):
            for kind, entries in block.items():
                for body in entries.values():
                    used.setdefault(unquote(kind), set()).update(_arguments(body))
    return used


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def lower_bound(directory: Path) -> tuple[int, ...]:
    (terraform,) = load_dir(directory)["terraform"]
    constraint = unquote(terraform["required_providers"][0]["huaweicloud"]["version"])
    (bound,) = re.findall(r">=\s*([\d.]+)", str(constraint))
    return _release(bound)


def test_every_argument_is_recorded_with_the_provider_release_that_introduced_it():
    recorded = json.loads(PROVIDER_ARGUMENTS.read_text())["resources"]
    for kind, arguments in used_arguments(TF_DIR, EXAMPLES / "owner", EXAMPLES / "recipient").items():
        missing = sorted(arguments - set(recorded.get(kind, {})))
        assert not missing, (
            f"{kind}: {missing} not in {PROVIDER_ARGUMENTS.name}; add each with the first provider release whose "
            "resource schema has it (huaweicloud/terraform-provider-huaweicloud, huaweicloud/services/...)"
        )


@pytest.mark.parametrize("directory", [TF_DIR, EXAMPLES / "owner", EXAMPLES / "recipient"], ids=lambda p: p.name)
def test_the_provider_bound_admits_no_release_without_an_argument_in_use(directory):
    recorded = json.loads(PROVIDER_ARGUMENTS.read_text())["resources"]
    used = used_arguments(TF_DIR, EXAMPLES / "owner", EXAMPLES / "recipient")
    needed = max(
        (_release(recorded[kind][argument]), f"{kind}.{argument}")
        for kind, arguments in used.items()
        for argument in arguments
        if argument in recorded.get(kind, {})
    )
    assert lower_bound(directory) >= needed[0], f"{needed[1]} needs provider {'.'.join(map(str, needed[0]))}"
    assert needed == ((1, 75, 2), "huaweicloud_fgs_function.enable_lts_log")  # the newest today


def test_the_argument_walk_sees_nested_and_dynamic_blocks():
    """The check above reads every argument: inside blocks and dynamic blocks too."""
    used = used_arguments(TF_DIR)
    assert {"condition.unit", "alarm_actions.notification_list", "resources.dimensions.name"} <= used[
        "huaweicloud_ces_alarmrule"
    ]
    assert {"project_role.roles", "delegated_domain_name"} <= used["huaweicloud_identity_agency"]
    assert "on_failure.param" in used["huaweicloud_fgs_async_invoke_configuration"]


# ------------------------------------------------------------------------------------------------
# Hygiene: what `terraform init/plan/apply` leaves in an example stays out of git

LEFT_BY_TERRAFORM = [
    "terraform.tfvars",  # project IDs, e-mail addresses
    "prod.auto.tfvars.json",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "terraform.tfstate.1700000000.backup",
    ".terraform.tfstate.lock.info",
    ".terraform/providers/x",
    "tfplan",  # terraform plan -out=tfplan
    "release.tfplan",
    "crash.log",
    "imsync_override.tf",
]
KEPT_IN_GIT = ["terraform.tfvars.example", "main.tf", "variables.tf", ".terraform.lock.hcl", "README.md"]


@pytest.mark.parametrize("example", ["owner", "recipient"])
def test_terraforms_local_files_are_ignored_and_the_examples_are_not(example):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [f"examples/{example}/{name}" for name in LEFT_BY_TERRAFORM + KEPT_IN_GIT]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(paths),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ignored = set(done.stdout.split())
    assert [p for p in paths[: len(LEFT_BY_TERRAFORM)] if p not in ignored] == []
    assert [p for p in paths[len(LEFT_BY_TERRAFORM) :] if p in ignored] == []


# ------------------------------------------------------------------------------------------------
# Documentation a module user expects


def test_the_modules_readme_tables_are_generated_from_variables_and_outputs():
    from deploy import module_docs

    assert module_docs.main(["--check"]) == 0, "run: python deploy/module_docs.py"
    text = (TF_DIR / "README.md").read_text()
    for name in named(load_dir(TF_DIR), "variable"):
        assert f"| `{name}` |" in text
    for name in named(load_dir(TF_DIR), "output"):
        assert f"| `{name}` |" in text


def test_the_readme_check_fails_when_a_variable_is_added(tmp_path):
    from deploy import module_docs

    for path in TF_DIR.glob("*.tf"):
        shutil.copy(path, tmp_path / path.name)
    with (tmp_path / "variables.tf").open("a") as handle:
        handle.write('\nvariable "brand_new" {\n  description = "Added after the README was generated."\n')
        handle.write("  type = string\n}\n")
    text = (TF_DIR / "README.md").read_text()
    assert module_docs.rendered(text, module_docs.tables(tmp_path)) != text
    assert "| `brand_new` | Added after the README was generated. | `string` |  | yes |" in module_docs.tables(tmp_path)


@pytest.mark.parametrize("example", ["owner", "recipient"])
def test_each_example_has_a_readme_with_what_it_deploys_and_the_commands(example):
    text = (EXAMPLES / example / "README.md").read_text()
    for command in ("imsync package --platform functiongraph", "terraform init", "terraform plan", "terraform apply"):
        assert command in text, f"examples/{example}/README.md lacks `{command}`"
    assert "cp terraform.tfvars.example terraform.tfvars" in text
    roles = {"owner": "replicate_on_create", "recipient": "accept_shares"}
    assert roles[example] in text
