import pytest

from imsync.config import VARIABLES, Settings
from imsync.domain.errors import ConfigError

PID = "0123456789abcdef0123456789abcdef"


def test_defaults_deny_everything():
    settings = Settings.from_env({"IMSYNC_HOME_REGION": "cn-north-4"})
    assert settings.source_regions == ("cn-north-4",)
    assert settings.allowed_regions == frozenset()
    assert settings.share_targets == {}
    assert settings.max_concurrent_copies == 5
    assert settings.copy_tags is True and settings.dry_run is False


def test_full_settings():
    settings = Settings.from_env(
        {
            "IMSYNC_HOME_REGION": "cn-north-4",
            "IMSYNC_SOURCE_REGIONS": "cn-north-4, cn-east-3",
            "IMSYNC_ALLOWED_REGIONS": "cn-east-3,ap-southeast-1",
            "IMSYNC_AGENCY": "imsync-copy",
            "IMSYNC_SHARE_TARGETS": f'{{"qa": {{"cn-east-3": ["{PID}"]}}}}',
            "IMSYNC_VAULTS": '{"cn-east-3": "vault-1"}',
            "IMSYNC_MAX_CONCURRENT_COPIES": "3",
            "IMSYNC_NAME_TEMPLATE": "{source_name}-from-{source_region}",
            "IMSYNC_COPY_TAGS": "false",
            "IMSYNC_DRY_RUN": "yes",
            "IMSYNC_HTTP_TIMEOUT": "12.5",
        }
    )
    assert settings.source_regions == ("cn-north-4", "cn-east-3")
    assert settings.share_projects(("qa",), "cn-east-3") == (PID,)
    assert settings.share_projects(("qa",), "cn-north-4") == ()
    assert settings.replica_name("cn-north-4", "x" * 200, "id").startswith("x")
    assert len(settings.replica_name("cn-north-4", "x" * 200, "id")) == 128
    assert settings.dry_run and not settings.copy_tags and settings.http_timeout == 12.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMSYNC_HOME_REGION": "Beijing"}, "IMSYNC_HOME_REGION: a 7-character value of letters is not a region ID"),
        ({"IMSYNC_ALLOWED_REGIONS": "cn-east-3,nowhere"}, "IMSYNC_ALLOWED_REGIONS: item 2 (a 7-character value"),
        ({"IMSYNC_SHARE_TARGETS": "{not json"}, "IMSYNC_SHARE_TARGETS: not valid JSON"),
        ({"IMSYNC_SHARE_TARGETS": '["a"]'}, 'expected {"alias"'),
        ({"IMSYNC_SHARE_TARGETS": '{"qa": {"cn-east-3": ["short"]}}'}, "project 1 (a 5-character value"),
        ({"IMSYNC_SHARE_TARGETS": f'{{"q_a": {{"cn-east-3": ["{PID}"]}}}}'}, "an alias (a 3-character value"),
        ({"IMSYNC_VAULTS": '{"cn-east-3": 5}'}, "IMSYNC_VAULTS"),
        ({"IMSYNC_MAX_CONCURRENT_COPIES": "9"}, "must be 1 to 5"),
        ({"IMSYNC_MAX_CONCURRENT_COPIES": "many"}, "not a whole number"),
        ({"IMSYNC_NAME_TEMPLATE": "{source_nme}"}, "unknown field {source_nme}"),
        ({"IMSYNC_NAME_TEMPLATE": "copy_{source_name!x}"}, "use plain fields"),
        ({"IMSYNC_NAME_TEMPLATE": "copy_{source_name:d}"}, "use plain fields"),
        ({"IMSYNC_COPY_TAGS": "perhaps"}, "IMSYNC_COPY_TAGS: a 7-character value of lowercase letters is not true"),
        ({"IMSYNC_HTTP_TIMEOUT": "0"}, "from 0.1 to 600 seconds"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=None) as err:
        Settings.from_env(env)
    assert message in str(err.value)


def test_home_region_required_when_needed():
    with pytest.raises(ConfigError, match="IMSYNC_HOME_REGION is not set"):
        Settings.from_env({}).require_home_region()


def test_every_contract_variable_is_listed():
    assert set(VARIABLES) >= {
        "IMSYNC_HOME_REGION",
        "IMSYNC_SOURCE_REGIONS",
        "IMSYNC_ALLOWED_REGIONS",
        "IMSYNC_AGENCY",
        "IMSYNC_SHARE_TARGETS",
        "IMSYNC_VAULTS",
        "IMSYNC_MAX_CONCURRENT_COPIES",
        "IMSYNC_NAME_TEMPLATE",
        "IMSYNC_COPY_TAGS",
        "IMSYNC_DRY_RUN",
        "IMSYNC_HTTP_TIMEOUT",
        "IMSYNC_CREDENTIALS_SECRET",
    }


def test_recipient_and_notification_settings():
    owner = "0123456789abcdef0123456789abcdef"
    urn = f"urn:smn:cn-north-4:{owner}:imsync-alerts"
    settings = Settings.from_env(
        {
            "IMSYNC_HOME_REGION": "cn-north-4",
            "IMSYNC_TRUSTED_OWNERS": f" {owner} ,{owner}",
            "IMSYNC_SMN_TOPIC_URN": urn,
            "IMSYNC_STUCK_AFTER_HOURS": "1.5",
        }
    )
    assert settings.trusted_owners == {owner}
    assert settings.accept_regions == ("cn-north-4",)  # the home region by default
    assert settings.smn_topic_urn == urn and settings.stuck_after_hours == 1.5
    defaults = Settings.from_env({})
    assert defaults.trusted_owners == frozenset() and defaults.smn_topic_urn is None
    assert defaults.stuck_after_hours == 12


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMSYNC_TRUSTED_OWNERS": "partner-account"}, "IMSYNC_TRUSTED_OWNERS: item 1 (a 15-character value"),
        ({"IMSYNC_ACCEPT_REGIONS": "cn-north-4,north"}, "IMSYNC_ACCEPT_REGIONS: item 2 (a 5-character value"),
        ({"IMSYNC_SMN_TOPIC_URN": "imsync-alerts"}, "IMSYNC_SMN_TOPIC_URN: a 13-character value of lowercase"),
        ({"IMSYNC_SMN_TOPIC_URN": "urn:smn:cn-north-4:abc:t"}, "is not an SMN topic URN like urn:smn:<region>"),
        ({"IMSYNC_STUCK_AFTER_HOURS": "soon"}, "IMSYNC_STUCK_AFTER_HOURS: a 4-character value of lowercase letters is"),
        ({"IMSYNC_STUCK_AFTER_HOURS": "0"}, "IMSYNC_STUCK_AFTER_HOURS: must be from 0.1 to 720 hours"),
        (
            {"IMSYNC_STUCK_AFTER_HOURS": "nan"},
            "IMSYNC_STUCK_AFTER_HOURS: a 3-character value of lowercase letters is not",
        ),
    ],
)
def test_bad_recipient_and_notification_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert message in str(err.value)


def test_tag_rules_and_windows_copies_are_settings_with_safe_defaults():
    home = {"IMSYNC_HOME_REGION": "cn-north-4"}
    default = Settings.from_env(home)
    assert (default.tag_rules, default.copy_windows) == ("strict", False)
    chosen = Settings.from_env({**home, "IMSYNC_TAG_RULES": " Relaxed ", "IMSYNC_COPY_WINDOWS": "true"})
    assert (chosen.tag_rules, chosen.copy_windows) == ("relaxed", True)
    with pytest.raises(ConfigError, match="IMSYNC_TAG_RULES: a 5-character value of lowercase letters") as err:
        Settings.from_env({**home, "IMSYNC_TAG_RULES": "loose"})
    assert "loose" not in str(err.value)  # a setting's value is never echoed (it may be a pasted secret)


@pytest.mark.parametrize(("raw", "minutes"), [(None, 30), ("0", 0), (" 45 ", 45), ("1440", 1440)])
def test_the_unlisted_wait_is_whole_minutes_with_30_by_default(raw, minutes):
    env = {} if raw is None else {"IMSYNC_UNLISTED_WAIT_MINUTES": raw}
    assert Settings.from_env(env).unlisted_wait_minutes == minutes


@pytest.mark.parametrize("raw", ["-1", "1441", "1.5", "30m", "\u0663\u0660", "1e3", "9" * 400])
def test_a_bad_unlisted_wait_is_refused_without_echoing_it(raw):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"IMSYNC_UNLISTED_WAIT_MINUTES": raw})
    message = str(err.value)
    assert message.startswith("IMSYNC_UNLISTED_WAIT_MINUTES: expected a whole number of minutes from 0 to 1440")
    assert raw not in message


def test_retention_keeps_by_default_and_reads_follow_and_the_grace_period():
    default = Settings.from_env({"IMSYNC_HOME_REGION": "cn-north-4"})
    assert (default.retain, default.retain_grace_days) == ("keep", 7)
    chosen = Settings.from_env({"IMSYNC_RETAIN": " Follow ", "IMSYNC_RETAIN_GRACE_DAYS": "0"})
    assert (chosen.retain, chosen.retain_grace_days) == ("follow", 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("IMSYNC_RETAIN", "delete"), ("IMSYNC_RETAIN_GRACE_DAYS", "-1"), ("IMSYNC_RETAIN_GRACE_DAYS", "1.5")],
)
def test_a_bad_retention_setting_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
