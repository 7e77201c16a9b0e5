"""template.yaml: the SAM template read with cfn-lint's loader (it knows !Ref, !Sub ...), and linted."""

from __future__ import annotations

import ast
import copy
import importlib.util
import zipfile
from pathlib import Path

import pytest

from imsync.config import VARIABLES
from imsync.packaging import LAYER_ZIP, build_packages

FUNCTIONS = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")

cfnlint_decode = pytest.importorskip("cfnlint.decode", reason="cfn-lint is not installed")

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
    (props,) = [p for p in functions(template).values() if p["CodeUri"].endswith(f"/{code}.zip")]
    return props


def globals_(template) -> dict:
    return template["Globals"]["Function"]


def test_cfn_lint_is_clean():
    if importlib.util.find_spec("cfnlint.api") is None:
        pytest.skip("cfn-lint is not importable")
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE)
    assert not matches, "\n".join(str(m) for m in matches)


def test_the_three_functions_on_python_312(template):
    assert sorted(Path(p["CodeUri"]).stem for p in functions(template).values()) == sorted(FUNCTIONS)
    assert globals_(template)["Runtime"] == "python3.12"
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert globals_(template)["Layers"] == [{"Ref": "ImsyncLayer"}]


def test_every_handler_resolves_to_a_callable_in_the_packaged_layout(template, tmp_path):
    if not all((ROOT / "functions" / f / "handler.py").is_file() for f in FUNCTIONS):
        pytest.skip("the three handlers are not in functions/ yet")
    built = build_packages(
        "aws", "3.12", tmp_path, include_dependencies=False, compile_pyc=False, root=ROOT, echo=lambda _: None
    )
    by_name = {p.name: p for p in built}
    layer = template["Resources"]["ImsyncLayer"]["Properties"]["ContentUri"]
    assert layer == f"dist/aws-py3.12/{LAYER_ZIP}" and LAYER_ZIP in by_name
    for props in functions(template).values():
        code_uri = Path(props["CodeUri"])
        assert code_uri.parent == Path("dist/aws-py3.12"), "CodeUri must point at `imsync package --out dist`"
        handler = props.get("Handler", globals_(template)["Handler"])
        module, _, attribute = handler.rpartition(".")
        with zipfile.ZipFile(by_name[code_uri.name]) as archive:
            source = archive.read(module.replace(".", "/") + ".py")
        defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
        assert attribute in defined, f"{code_uri.name}: {handler} is not a function"


def test_every_imsync_setting_comes_from_its_parameter(template):
    env = globals_(template)["Environment"]["Variables"]
    parameters = template["Parameters"]
    assert set(VARIABLES) <= set(env)
    for name in VARIABLES:
        ref = env[name]["Ref"]
        assert parameters[ref]["Description"].startswith(name + " "), f"{name} is fed by {ref}"
    assert env["IMSYNC_EVENT_BUS"] == {"Ref": "EventBus"}


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
        ("share_on_complete", "PollSchedule", "rate(5 minutes)"),
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
