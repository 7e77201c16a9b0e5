"""The domain stays free of vendor SDKs (DESIGN.md): checked by walking its imports."""

import ast
from pathlib import Path

import imsync.domain

FORBIDDEN = ("huaweicloudsdk", "boto3", "botocore", "aws_lambda_powertools", "requests", "imsync.adapters")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_domain_imports_no_vendor_sdk():
    domain = Path(imsync.domain.__file__).parent
    offenders = {
        f"{path.name}: {module}"
        for path in domain.glob("*.py")
        for module in imported_modules(path)
        if module.startswith(FORBIDDEN)
    }
    assert not offenders


def test_only_adapters_import_the_huawei_sdk():
    package = Path(imsync.domain.__file__).parent.parent
    offenders = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "adapters" not in path.parts and "emulator" not in path.parts
        for module in imported_modules(path)
        if module.startswith("huaweicloudsdk")
    }
    assert not offenders
