"""Wrong, expired and empty credentials: a reason naming what to fix, nothing written, no key material anywhere."""

from tests.abuse.conftest import HOME, writes
from tests.helpers.events import load_event


class FunctionGraphContext:
    """The parts of a FunctionGraph context imsync reads: the agency's temporary credentials."""

    def __init__(self, ak="", sk="", token=""):
        self._ak, self._sk, self._token = ak, sk, token

    def getSecurityAccessKey(self):
        return self._ak

    def getSecuritySecretKey(self):
        return self._sk

    def getSecurityToken(self):
        return self._token

    def getRequestID(self):
        return "req-1"


def opted_in(cloud):
    return cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})


def auth_reason(answer):
    text = str(answer).lower()
    return any(word in text for word in ("credential", "access key", "signature", "auth", "token"))


def test_a_wrong_secret_key_is_an_auth_error_and_no_write(cloud, deployment, call, secret, monkeypatch):
    opted_in(cloud)
    secret("wrong-secret-key-0123456789abcdef")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "wrong-secret-key-0123456789abcdef")

    answer = call("scheduled_dr_copy", load_event("timer"))

    assert answer["ok"] is False and auth_reason(answer), answer
    assert writes(cloud) == []


def test_an_unknown_access_key_is_an_auth_error_and_no_write(cloud, deployment, call, secret, monkeypatch):
    opted_in(cloud)
    secret("UNKNOWNACCESSKEY0000")
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "UNKNOWNACCESSKEY0000")

    answer = call("replicate_on_create", {"image_id": opted_in(cloud).id})

    assert answer["ok"] is False and auth_reason(answer), answer
    assert writes(cloud) == []


def test_empty_credentials_are_a_configuration_error_naming_the_variables(cloud, deployment, call, monkeypatch):
    opted_in(cloud)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "")

    answer = call("scheduled_dr_copy", load_event("timer"))

    assert answer["ok"] is False and "HUAWEICLOUD_SDK_AK" in answer["error"], answer
    assert cloud.requests == []  # not even a read: and never the metadata service the SDK falls back to


def test_half_a_key_pair_is_a_configuration_error(cloud, deployment, call, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", " ")

    answer = call("share_on_complete", load_event("timer"))

    assert answer["ok"] is False and "set both" in answer["error"], answer
    assert cloud.requests == []


def test_expired_temporary_credentials_stop_writes_with_a_reason(cloud, deployment, call, monkeypatch):
    image = opted_in(cloud)
    ak, sk, token = cloud.temporary_credentials(duration_seconds=600)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", token)
    first = call("replicate_on_create", {"image_id": image.id})
    assert first["counts"]["started"] == 1, first  # valid: the copy starts
    cloud.clock.advance(3600)  # the token expires on the emulator's clock
    cloud.reset_counters()

    later = call("share_on_complete", load_event("timer"))

    assert later["ok"] is False and auth_reason(later), later
    assert writes(cloud) == []
    assert {r.status for r in cloud.requests} <= {401}


def test_expired_functiongraph_agency_credentials_give_a_reason_and_no_write(cloud, deployment, call, monkeypatch):
    image = opted_in(cloud)
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
        monkeypatch.delenv(name, raising=False)
    context = FunctionGraphContext(*cloud.temporary_credentials(duration_seconds=60))
    cloud.clock.advance(120)

    answer = call("replicate_on_create", {"image_id": image.id}, context)

    assert answer["ok"] is False and auth_reason(answer), answer
    assert writes(cloud) == []


def test_a_context_with_empty_agency_credentials_falls_back_to_the_environment(cloud, deployment, call):
    image = opted_in(cloud)

    answer = call("replicate_on_create", {"image_id": image.id}, FunctionGraphContext("", "", ""))

    assert answer["counts"]["started"] == 1, answer
