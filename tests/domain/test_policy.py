from imsync.domain.policy import parse_policy, split_list

ALLOWED = {"cn-east-3", "ap-southeast-1", "cn-south-1"}
ALIASES = {"qa", "partner"}


def test_regions_and_aliases_with_every_accepted_separator():
    policy = parse_policy(
        {"imsync-regions": "cn-east-3_ap-southeast-1,cn-south-1", "imsync-share": "qa+partner"}, ALLOWED, ALIASES
    )
    assert policy.regions == ("cn-east-3", "ap-southeast-1", "cn-south-1")
    assert policy.aliases == ("qa", "partner")
    assert policy.when == "event"
    assert policy.refusals == ()


def test_disallowed_region_is_refused_with_the_fix_and_the_rest_applies():
    policy = parse_policy({"imsync-regions": "cn-east-3_cn-east-9"}, ALLOWED, ALIASES)
    assert policy.regions == ("cn-east-3",)
    (refusal,) = policy.refusals
    assert "'cn-east-9' is not in IMSYNC_ALLOWED_REGIONS" in refusal
    assert "ap-southeast-1, cn-east-3, cn-south-1" in refusal


def test_unknown_alias_is_refused_and_known_ones_apply():
    policy = parse_policy({"imsync-regions": "cn-east-3", "imsync-share": "qa_nobody"}, ALLOWED, ALIASES)
    assert policy.aliases == ("qa",)
    assert any("'nobody' is not a share target" in r for r in policy.refusals)


def test_over_long_value_is_refused_whole():
    value = "cn-east-3_" * 5
    policy = parse_policy({"imsync-regions": value}, ALLOWED, ALIASES)
    assert policy.regions == ()
    assert "IMS allows 43" in policy.refusals[0]


def test_invalid_characters_refuse_the_whole_tag():
    policy = parse_policy({"imsync-regions": "cn-east-3;$(rm -rf)"}, ALLOWED, ALIASES)
    assert policy.regions == ()
    assert "characters IMS tags do not allow" in policy.refusals[0]


def test_when_schedule_and_unknown_when():
    assert parse_policy({"imsync-when": "schedule"}, ALLOWED, ALIASES).when == "schedule"
    odd = parse_policy({"imsync-when": "sometimes"}, ALLOWED, ALIASES)
    assert odd.when == "schedule" and not odd.copies_on_event
    assert "treated as 'schedule'" in odd.refusals[0]


def test_nothing_allowed_means_nothing_copied():
    policy = parse_policy({"imsync-regions": "cn-east-3"}, set(), ALIASES)
    assert policy.regions == ()
    assert "allowed: none" in policy.refusals[0]


def test_split_list_drops_duplicates_and_empties():
    assert split_list(" a__b , a ;") == ["a", "b"]


def test_empty_regions_tag_says_so_instead_of_doing_nothing_silently():
    policy = parse_policy({"imsync-regions": " _ "}, ALLOWED, ALIASES)
    assert policy.regions == ()
    assert "names no region" in policy.refusals[0]
