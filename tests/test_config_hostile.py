"""Hostile settings: every value is bounded and ASCII, refused with the variable named, and never echoed.

docs/security.md, "Settings": a foreign digit, a trailing newline inside JSON, a format spec in the name
template or 1e-300 seconds each used to pass validation; a secret pasted into the wrong variable was quoted
in the error and the log.
"""

from __future__ import annotations

import json
import secrets
import string

import pytest

from imsync.config import Settings, event_bus
from imsync.domain.errors import ConfigError
from imsync.settings_file import file_and_environment, located

PID = "0123456789abcdef0123456789abcdef"
FOUR = "\u0664"  # ARABIC-INDIC DIGIT FOUR: str.isdigit() and int() take it, IMS does not
FIVE = "\u0665"


def targets(alias: str = "partner", region: str = "cn-east-3", project: str = PID) -> str:
    return json.dumps({alias: {region: [project]}})


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    return str(err.value)


HOSTILE = {
    "non-ASCII digit in a region": ({"IMSYNC_HOME_REGION": f"cn-north-{FOUR}"}, "IMSYNC_HOME_REGION"),
    "non-ASCII digit in a list": ({"IMSYNC_ALLOWED_REGIONS": f"cn-east-3,cn-north-{FOUR}"}, "IMSYNC_ALLOWED_REGIONS"),
    "non-ASCII digit in a JSON region": ({"IMSYNC_SHARE_TARGETS": targets(region=f"cn-north-{FOUR}")}, "TARGETS"),
    "non-ASCII digit as copies": ({"IMSYNC_MAX_CONCURRENT_COPIES": FIVE}, "IMSYNC_MAX_CONCURRENT_COPIES"),
    "non-ASCII digits as seconds": ({"IMSYNC_HTTP_TIMEOUT": FIVE * 2}, "IMSYNC_HTTP_TIMEOUT"),
    "newline after a JSON alias": ({"IMSYNC_SHARE_TARGETS": targets(alias="partner\n")}, "IMSYNC_SHARE_TARGETS"),
    "newline after a JSON region": ({"IMSYNC_SHARE_TARGETS": targets(region="cn-east-3\n")}, "IMSYNC_SHARE_TARGETS"),
    "newline after a project ID": ({"IMSYNC_SHARE_TARGETS": targets(project=PID + "\n")}, "IMSYNC_SHARE_TARGETS"),
    "space before a project ID": ({"IMSYNC_SHARE_TARGETS": targets(project=" " + PID)}, "IMSYNC_SHARE_TARGETS"),
    "newline after a vault region": ({"IMSYNC_VAULTS": '{"cn-east-3\\n": "vault-1"}'}, "IMSYNC_VAULTS"),
    "newline after a vault ID": ({"IMSYNC_VAULTS": '{"cn-east-3": "vault-1\\n"}'}, "IMSYNC_VAULTS"),
    "deeply nested JSON": ({"IMSYNC_SHARE_TARGETS": "[" * 5000 + "]" * 5000}, "nested too deeply"),
    "deeply nested vaults": ({"IMSYNC_VAULTS": '{"a":' * 3000 + "1" + "}" * 3000}, "nested too deeply"),
    "a width spec in the template": ({"IMSYNC_NAME_TEMPLATE": "{source_name:>999999999}"}, "format spec"),
    "a conversion in the template": ({"IMSYNC_NAME_TEMPLATE": "copy_{source_name!r}"}, "format spec or conversion"),
    "an undocumented template field": ({"IMSYNC_NAME_TEMPLATE": "{source_image_id}"}, "unknown field"),
    "a positional template field": ({"IMSYNC_NAME_TEMPLATE": "copy_{}"}, "unknown field"),
    "an attribute in the template": ({"IMSYNC_NAME_TEMPLATE": "{source_name.__class__}"}, "unknown field"),
    "a tiny timeout": ({"IMSYNC_HTTP_TIMEOUT": "1e-300"}, "IMSYNC_HTTP_TIMEOUT"),
    "a tiny stuck time": ({"IMSYNC_STUCK_AFTER_HOURS": "1e-300"}, "IMSYNC_STUCK_AFTER_HOURS"),
    "an infinite stuck time": ({"IMSYNC_STUCK_AFTER_HOURS": "inf"}, "IMSYNC_STUCK_AFTER_HOURS"),
    "nan seconds": ({"IMSYNC_SHARE_WAIT_SECONDS": "nan"}, "IMSYNC_SHARE_WAIT_SECONDS"),
    "a huge timeout": ({"IMSYNC_HTTP_TIMEOUT": "100000"}, "IMSYNC_HTTP_TIMEOUT"),
    "a stuck time of years": ({"IMSYNC_STUCK_AFTER_HOURS": "100000"}, "IMSYNC_STUCK_AFTER_HOURS"),
    "copies written with an underscore": ({"IMSYNC_MAX_CONCURRENT_COPIES": "0_5"}, "IMSYNC_MAX_CONCURRENT_COPIES"),
    "an accept rate of centuries": ({"IMSYNC_ACCEPT_SCHEDULE": "99999d"}, "IMSYNC_ACCEPT_SCHEDULE"),
    "an agency with a newline inside": ({"IMSYNC_AGENCY": "imsync\ncopy"}, "IMSYNC_AGENCY"),
    "thousands of regions": ({"IMSYNC_ALLOWED_REGIONS": ",".join(["cn-east-3"] * 5000)}, "at most 200"),
    "thousands of aliases": ({"IMSYNC_SHARE_TARGETS": json.dumps({f"a{n}": {} for n in range(5000)})}, "at most 200"),
}


@pytest.mark.parametrize(("env", "named"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_setting_is_a_config_error_naming_it(env, named):
    assert named in refusal(env)


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        ("IMSYNC_HOME_REGION", "cn-east-3\n", lambda s: s.home_region == "cn-east-3"),
        ("IMSYNC_ALLOWED_REGIONS", " cn-east-3\n", lambda s: s.allowed_regions == {"cn-east-3"}),
        ("IMSYNC_TRUSTED_OWNERS", PID + "\n", lambda s: s.trusted_owners == {PID}),
        ("IMSYNC_AGENCY", "imsync-copy\n", lambda s: s.agency == "imsync-copy"),
        ("IMSYNC_MAX_CONCURRENT_COPIES", "3\n", lambda s: s.max_concurrent_copies == 3),
    ],
)
def test_whitespace_around_a_whole_variable_is_stripped(variable, value, read):
    assert read(Settings.from_env({variable: value}))


def test_a_newline_inside_the_settings_file_is_refused_with_the_file_and_key_named(tmp_path):
    file = tmp_path / "imsync.toml"
    file.write_text(f'home_region = "cn-north-4\\n"\n\n[share_targets.partner]\n"cn-east-3" = ["{PID}\\n"]\n')

    env, origins = file_and_environment(str(file), {})
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)

    message = str(located(err.value, origins))
    assert message.startswith(f"{file}: key share_targets (IMSYNC_SHARE_TARGETS: alias 'partner', region cn-east-3")
    assert "project 1 (a 33-character value of lowercase letters, digits and line breaks" in message


@pytest.mark.parametrize("bus", ["imsync-notices", "arn:aws:events:eu-west-1:123456789012:event-bus/imsync"])
def test_an_event_bus_name_or_arn_is_taken(bus):
    assert event_bus({"IMSYNC_EVENT_BUS": bus + "\n"}) == bus


@pytest.mark.parametrize("read", [event_bus, Settings.from_env], ids=["event_bus", "Settings.from_env"])
def test_an_event_bus_setting_is_checked_and_never_echoed(read):
    """Settings.from_env checks it with every other setting, so `imsync config check` and doctor see it too."""
    pasted = fake_secret() + "+/"
    with pytest.raises(ConfigError) as err:
        read({"IMSYNC_EVENT_BUS": pasted})
    assert str(err.value).startswith("IMSYNC_EVENT_BUS: a 42-character value of letters, digits and punctuation")
    assert pasted[3:12] not in str(err.value)


def test_the_event_bus_is_a_setting():
    assert Settings.from_env({"IMSYNC_EVENT_BUS": " imsync-notices "}).event_bus == "imsync-notices"
    assert Settings.from_env({}).event_bus is None


def fake_secret() -> str:
    """A secret-looking value made up for this run: 40 letters and digits (never a real key)."""
    alphabet = string.ascii_letters + string.digits
    return "Zq7" + "".join(secrets.choice(alphabet) for _ in range(37))  # letters of both cases and digits


SECRET_PLACES = {
    "IMSYNC_SMN_TOPIC_URN": "{}",
    "IMSYNC_TRUSTED_OWNERS": f"{PID},{{}}",
    "IMSYNC_HOME_REGION": "{}",
    "IMSYNC_SOURCE_REGIONS": "{}",
    "IMSYNC_ALLOWED_REGIONS": "cn-east-3,{}",
    "IMSYNC_ACCEPT_REGIONS": "{}",
    "IMSYNC_SHARE_TARGETS": '{{"partner": {{"cn-east-3": ["{}"]}}}}',
    "IMSYNC_VAULTS": '{{"cn-east-3": "{}/"}}',  # 40 letters and digits alone could be a vault ID
    "IMSYNC_MAX_CONCURRENT_COPIES": "{}",
    "IMSYNC_HTTP_TIMEOUT": "{}",
    "IMSYNC_SHARE_WAIT_SECONDS": "{}",
    "IMSYNC_STUCK_AFTER_HOURS": "{}",
    "IMSYNC_COPY_TAGS": "{}",
    "IMSYNC_DRY_RUN": "{}",
    "IMSYNC_NAME_TEMPLATE": "copy_{{{}}}",
    "IMSYNC_ACCEPT_SCHEDULE": "{}",
    "IMSYNC_LOG_LEVEL": "{}",
}


@pytest.mark.parametrize("variable", list(SECRET_PLACES))
def test_a_secret_pasted_into_a_setting_is_never_echoed(variable):
    secret = fake_secret()
    value = SECRET_PLACES[variable].format(secret)

    message = refusal({variable: value})

    assert message.startswith(f"{variable}: ")
    assert not any(secret[i : i + 6] in message for i in range(len(secret) - 5)), message
    assert "-character value of " in message, message  # its length and shape instead


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IMSYNC_UNLISTED_WAIT_MINUTES", "9" * 5000),  # int() refuses over 4300 digits: a ValueError, not a ConfigError
        ("IMSYNC_RETAIN_GRACE_DAYS", "9" * 5000),
        ("IMSYNC_VAULTS", json.dumps({f"cn-north-{n}": "a" * 36 for n in range(201)})),
        ("IMSYNC_SHARE_TARGETS", json.dumps({"qa": {f"cn-north-{n}": ["0" * 32] for n in range(201)}})),
    ],
    ids=["huge-wait", "huge-grace", "too-many-vaults", "too-many-regions-in-an-alias"],
)
def test_settings_found_by_review_are_bounded_too(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"IMSYNC_HOME_REGION": "cn-north-4", name: value})
