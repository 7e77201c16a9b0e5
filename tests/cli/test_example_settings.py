"""imsync.toml.example: no placeholder passes as a real value, and appending a key works (issue 23, point 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imsync.config import Settings
from imsync.domain.errors import ConfigError
from imsync.settings_file import read_settings_file

EXAMPLE = Path(__file__).resolve().parents[2] / "imsync.toml.example"


def test_the_example_shares_with_no_one_until_a_real_project_is_named():
    values = read_settings_file(EXAMPLE)

    assert Settings.from_env(values).share_targets == {}


@pytest.mark.parametrize("key", ["share_targets", "trusted_owners"])
def test_an_uncommented_placeholder_is_refused(tmp_path, key):
    text = re.sub(rf"^# ({key} = )", r"\1", EXAMPLE.read_text(), flags=re.MULTILINE)
    (tmp_path / "imsync.toml").write_text(text)

    with pytest.raises(ConfigError):
        Settings.from_env(read_settings_file(tmp_path / "imsync.toml"))


def test_a_key_appended_at_the_end_is_a_setting(tmp_path):
    owner = "0123456789abcdef0123456789abcdef"
    text = EXAMPLE.read_text() + f'trusted_owners = ["{owner}"]\n'
    (tmp_path / "imsync.toml").write_text(text)

    values = read_settings_file(tmp_path / "imsync.toml")

    assert set(Settings.from_env(values).trusted_owners) == {owner}
