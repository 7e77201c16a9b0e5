"""template.yaml: the SAM template read with cfn-lint's loader (it knows !Ref, !Sub ...), and linted."""

from __future__ import annotations

import ast
import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cfnlint.decode as cfnlint_decode  # a dev dependency: without it this module fails, not skips
import pytest

from imsync.config import VARIABLES
from imsync.packaging.contents import function_names
from imsync.packaging.tree import find_interpreter

# Logical ID of each function in the template, by its directory under functions/.
LOGICAL_IDS = {
    "replicate_on_create": "ReplicateOnCreateFunction",
    "scheduled_dr_copy": "ScheduledDrCopyFunction",
    "share_on_complete": "ShareOnCompleteFunction",
    "accept_shares": "AcceptSharesFunction",
}
FUNCTIONS = tuple(LOGICAL_IDS)
OWNER = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")
MAKEFILE = "deploy/aws/Makefile"


ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
IMAGE_OPERATIONS = ["createImage", "addTag", "batchTagsAction", "updateImage"]


@pytest.fixture(scope="module")
def template() -> dict:
    loaded, problems = cfnlint_decode.decode(str(TEMPLATE))
    assert not problems, problems
    return loaded


@pytest.fixture(scope="module")
def translated(template) -> dict:
    """The template after the SAM transform, as CloudFormation would see it."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:  # the template names no AWS managed policy by name
        def load(self) -> dict:
            return {}

    document = copy.deepcopy(dict(template))
    # SAM resolves local code paths only at package time (`sam build`); the transform wants S3 URIs.
    for resource in document["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://imsync-artifacts/code.zip"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the translator asks boto for a region to build ARNs
        return transform(document, {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}, NoManagedPolicies())


def functions(template) -> dict[str, dict]:
    return {
        name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


def function_for(template, code: str) -> dict:
    return dict(template["Resources"][LOGICAL_IDS[code]]["Properties"])


def globals_(template) -> dict:
    return template["Globals"]["Function"]


def test_cfn_lint_is_clean():
    # cfn-lint is a dev dependency: this test is .ci/run's cfn-lint check, so it fails rather than skips without it.
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE)
    assert not matches, "\n".join(str(m) for m in matches)


def test_every_function_on_python_312_with_the_layer(template):
    assert set(functions(template)) == set(LOGICAL_IDS.values())
    assert set(function_names(ROOT)) <= set(LOGICAL_IDS), "a function directory the template does not deploy"
    assert globals_(template)["Runtime"] == "python3.12"
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert globals_(template)["Layers"] == [{"Ref": "ImsyncLayer"}]


def test_role_selects_the_functions(template):
    assert template["Parameters"]["Role"]["Default"] == "owner"
    resources = template["Resources"]
    for code in OWNER:
        assert resources[LOGICAL_IDS[code]]["Condition"] == "DeployOwner"
    assert resources["AcceptSharesFunction"]["Condition"] == "DeployRecipient"
    assert template["Conditions"]["DeployRecipient"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Role"}, "owner"]}]}


def test_sam_build_runs_the_makefile_from_the_repository_root(template):
    """BuildMethod makefile: `sam build` builds the code with `imsync package`; nothing is prebuilt."""
    makefile = (ROOT / MAKEFILE).read_text()
    for logical_id in ["ImsyncLayer", *LOGICAL_IDS.values()]:
        resource = template["Resources"][logical_id]
        assert resource["Metadata"]["BuildMethod"] == "makefile", logical_id
        assert resource["Metadata"]["WorkingDirectory"] == ".", logical_id  # imsync package runs in the checkout
        code = resource["Properties"].get("CodeUri") or resource["Properties"].get("ContentUri")
        assert code == str(Path(MAKEFILE).parent), logical_id
        assert f"\nbuild-{logical_id}:" in makefile, f"no make target for {logical_id}"
    assert "$(IMSYNC) package --platform aws" in makefile


def _make(target: str, artifacts: Path, dist: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ARTIFACTS_DIR": str(artifacts),
        "DIST": str(dist),
        "IMSYNC": str(Path(sys.executable).parent / "imsync"),
        "PYTHON": sys.executable,
        "PACKAGE_FLAGS": " ".join(flags),
    }
    return subprocess.run(
        ["make", "-f", MAKEFILE, target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_handler_resolves_to_a_callable_in_what_the_makefile_builds(template, tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for code in function_names(ROOT):
        logical_id = LOGICAL_IDS[code]
        artifacts = tmp_path / logical_id
        artifacts.mkdir()
        done = _make(f"build-{logical_id}", artifacts, tmp_path / "dist", "--no-deps", "--no-compile")
        assert done.returncode == 0, done.stderr
        handler = template["Resources"][logical_id]["Properties"].get("Handler", globals_(template)["Handler"])
        module, _, attribute = handler.rpartition(".")
        source = (artifacts / (module.replace(".", "/") + ".py")).read_text()
        defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
        assert attribute in defined, f"{logical_id}: {handler} is not a function"
    layer = tmp_path / "ImsyncLayer"
    layer.mkdir()
    assert _make("build-ImsyncLayer", layer, tmp_path / "dist", "--no-deps", "--no-compile").returncode == 0
    assert (layer / "python" / "imsync" / "entrypoint.py").is_file()  # Lambda puts python/ of a layer on sys.path


@pytest.mark.network
def test_sam_build_builds_the_layer_and_every_function(tmp_path):
    """The real `sam build` (CI installs the SAM CLI in .venv-sam), fetching the locked wheels."""
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.is_file() or shutil.which("make") is None or not find_interpreter("3.12"):
        pytest.skip("needs the SAM CLI in .venv-sam, make and a Python 3.12")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "DIST": str(tmp_path / "dist"),
        "IMSYNC": str(Path(sys.executable).parent / "imsync"),
        "PYTHON": sys.executable,
    }
    present = function_names(ROOT)
    # The whole template when every function it names exists; until then, one `sam build <id>` each.
    runs = [[]] if set(present) == set(LOGICAL_IDS) else [[LOGICAL_IDS[f]] for f in present]
    for resource in runs:
        build_dir = tmp_path / "-".join(["build", *resource])  # each `sam build` empties its directory
        done = subprocess.run(
            [str(sam), "build", *resource, "--template", "template.yaml", "--build-dir", str(build_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert (build_dir / "ImsyncLayer" / "python" / "huaweicloudsdkims" / "v2" / "__init__.py").is_file()
        for code in present if not resource else [c for c, i in LOGICAL_IDS.items() if i in resource]:
            assert (build_dir / LOGICAL_IDS[code] / "handler.py").is_file(), code


def test_every_imsync_setting_comes_from_its_parameter(template):
    recipient = function_for(template, "accept_shares")["Environment"]["Variables"]
    env = {**globals_(template)["Environment"]["Variables"], **recipient}
    parameters = template["Parameters"]
    # On AWS notifications go to the EventBridge bus (IMSYNC_EVENT_BUS), never to an SMN topic.
    settings = set(VARIABLES) - {"IMSYNC_SMN_TOPIC_URN"}
    assert settings <= set(env)
    for name in settings:
        ref = env[name]["Ref"]
        assert parameters[ref]["Description"].startswith(name + " "), f"{name} is fed by {ref}"
    assert env["IMSYNC_EVENT_BUS"] == {"Ref": "EventBus"}
    assert env["IMSYNC_STUCK_AFTER_HOURS"] == {"Ref": "StuckAfterHours"}
    assert recipient == {
        "IMSYNC_TRUSTED_OWNERS": {"Ref": "TrustedOwners"},
        "IMSYNC_ACCEPT_REGIONS": {"Ref": "AcceptRegions"},
        "IMSYNC_ACCEPT_SCHEDULE": {"Ref": "AcceptSchedule"},  # the timer's own rate: one run per interval
    }
    for name, ref in (("IMSYNC_TRUSTED_OWNERS", "TrustedOwners"), ("IMSYNC_ACCEPT_REGIONS", "AcceptRegions")):
        assert parameters[ref]["Description"].startswith(name + " ")
        assert parameters[ref]["Default"] == ""  # nothing is trusted unless named


def test_every_parameter_is_used(template):
    text = TEMPLATE.read_text()
    for name in template["Parameters"]:
        assert text.count(f"!Ref {name}") + text.count("${" + name + "}") >= 1, f"{name} is never used"


def test_one_instance_of_each_function(template):
    for name, props in functions(template).items():
        assert props["ReservedConcurrentExecutions"] == 1, name


@pytest.mark.parametrize(
    ("code", "parameter", "expected"),
    [
        ("scheduled_dr_copy", "DrSchedule", "rate(1 day)"),
        ("share_on_complete", "PollSchedule", "rate(1 minute)"),  # imsync's delay per step under a minute
        ("accept_shares", "AcceptSchedule", "rate(1 minute)"),
    ],
)
def test_schedules(template, code, parameter, expected):
    (event,) = function_for(template, code)["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": parameter}
    assert template["Parameters"][parameter]["Default"] == expected
    assert event["Properties"]["DeadLetterConfig"]["Type"] == "SQS"


def test_forwarded_cts_records_reach_replicate_on_create_through_the_custom_bus(template):
    assert template["Resources"]["EventBus"]["Type"] == "AWS::Events::EventBus"
    (event,) = function_for(template, "replicate_on_create")["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    props = event["Properties"]
    assert props["EventBusName"] == {"Ref": "EventBus"}
    assert props["Pattern"]["detail"]["trace_name"] == IMAGE_OPERATIONS
    assert props["Pattern"]["source"] == [{"Ref": "ForwardedEventSource"}]
    # imsync's own notifications (source "imsync") go to the same bus and must not match
    assert template["Parameters"]["ForwardedEventSource"]["Default"] != "imsync"
    assert props["DeadLetterConfig"]["Type"] == "SQS"


def test_failed_asynchronous_invocations_go_to_a_queue(template, translated):
    on_failure = globals_(template)["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}}
    configs = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert len(configs) == len(FUNCTIONS)


def _statements(role: dict) -> list[dict]:
    return [s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def test_secret_access_is_least_privilege(translated):
    roles = {
        name: r
        for name, r in translated["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and name.endswith("FunctionRole")
    }
    assert len(roles) == len(FUNCTIONS)
    for name, role in roles.items():
        secret = [s for s in _statements(role) if "secretsmanager" in str(s["Action"])]
        assert len(secret) == 1, name
        assert secret[0]["Action"] == ["secretsmanager:GetSecretValue"]
        assert "secret:${CredentialsSecretName}-??????" in str(secret[0]["Resource"])
        for statement in _statements(role):
            assert statement["Resource"] != "*", f"{name}: {statement['Action']} on every resource"
        managed = role["Properties"].get("ManagedPolicyArns", [])
        assert all("AWSLambdaBasicExecutionRole" in str(arn) for arn in managed), managed


def test_logs_are_kept_for_the_retention_period(template):
    for name, props in functions(template).items():
        group = template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_queue_of_failed_or_undelivered_events_has_an_alarm(template, translated):
    """A failing deployment must not stay silent: each queue that collects failures is watched."""
    queues = {n for n, r in translated["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    assert queues == {
        "FailedInvocationsQueue",
        "UndeliveredImsEventsQueue",
        "UndeliveredDrRunsQueue",
        "UndeliveredPollsQueue",
        "UndeliveredAcceptPollsQueue",
    }
    watched = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm" and resource["Properties"].get("Namespace") != "AWS/Lambda":
            props = resource["Properties"]
            dimensions = [props.get("Dimensions", [])] + [
                m["MetricStat"]["Metric"]["Dimensions"] for m in props.get("Metrics", []) if "MetricStat" in m
            ]
            watched |= {d["Value"]["Fn::GetAtt"][0] for group in dimensions for d in group}
            assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert "HasAlarmTopic" in str(props["AlarmActions"])
    assert watched == queues
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""


def test_every_function_has_an_alarm_on_its_errors(template):
    """A failed run raises, so Lambda counts it in Errors: each function's own alarm, deployed with the function."""
    alarms = {}
    for resource in template["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::CloudWatch::Alarm" and props.get("Namespace") == "AWS/Lambda":
            assert props["MetricName"] == "Errors" and props["Statistic"] == "Sum"
            assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert props["TreatMissingData"] == "notBreaching"  # no invocation is no error
            assert "HasAlarmTopic" in str(props["AlarmActions"])
            ((dimension),) = props["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            alarms[dimension["Value"]["Ref"]] = resource.get("Condition")
    assert alarms == {logical: template["Resources"][logical].get("Condition") for logical in functions(template)}, (
        "one alarm per function, deployed under the function's own condition"
    )
