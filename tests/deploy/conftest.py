"""Fixtures for the deployment tests: fake AWS credentials, the repository root, the network switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: needs the package index; runs only with IMSYNC_NETWORK_TESTS=1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("IMSYNC_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the network; set IMSYNC_NETWORK_TESTS=1 to run it")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Obviously fake AWS settings, so that nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing-not-a-key",
        "AWS_SECRET_ACCESS_KEY": "testing-not-a-secret",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
