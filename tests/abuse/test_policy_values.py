"""Tag values are checked whole: a trailing newline is a character IMS tags do not allow."""

from imsync.domain.policy import parse_policy


def test_a_trailing_newline_is_not_a_valid_tag_character():
    # `$` in the old pattern matched before a final newline, so "cn-east-3\n" passed as cn-east-3.
    policy = parse_policy({"imsync-regions": "cn-east-3\n"}, {"cn-east-3"}, ())

    assert policy.regions == ()
    assert len(policy.refusals) == 1 and "'\\n'" in policy.refusals[0]
