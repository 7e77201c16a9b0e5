"""The credential scan that runs after every abuse test must itself be able to fail."""

from tests.abuse.conftest import credential_leaks


def test_the_scan_finds_secret_values_and_signing_material():
    secrets = ["AKEXAMPLE0123456789", "sk-example-0123456789abcdef", "tok-0123456789abcdef"]
    assert credential_leaks("nothing here", secrets) == []
    assert credential_leaks("key=AKEXAMPLE0123456789", secrets) == ["secret #0"]
    assert credential_leaks('{"x": "tok-0123456789abcdef"}', secrets) == ["secret #2"]
    header = "Authorization: SDK-HMAC-SHA256 Access=A, SignedHeaders=host, Signature=ab12"
    assert credential_leaks(header, secrets) == ["Authorization", "SDK-HMAC-SHA256 ", "Signature="]
