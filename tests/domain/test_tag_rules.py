"""imsync's reading of IMS's tag and name rules agrees with the emulator's, which is written apart from it.

The engine checks character by character (cheap to import); the emulator keeps the rules as regular
expressions with their sources cited (emulator/api/tags.py, emulator/api/copies.py). Text is drawn from the
characters at the edges of each rule: every ASCII punctuation IMS mentions, space, newline, both ends of the
CJK block and the characters just outside it.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imsync.domain.model import RELAXED_TAGS, STRICT_TAGS, image_name
from imsync.emulator.api.copies import NAME_RE
from imsync.emulator.api.tags import TAG_RULES as EMULATOR_TAG_RULES

EDGES = "aZ09_-.:/+@ \n\t\u4e00\u9fff\u4dff\ua000é!*"
text = st.text(alphabet=st.sampled_from(EDGES), max_size=300) | st.text(max_size=60)


@given(key=text, value=text)
def test_both_readings_accept_exactly_the_tags_the_emulator_accepts(key: str, value: str) -> None:
    for rules in (STRICT_TAGS, RELAXED_TAGS):
        most, key_re, value_re = EMULATOR_TAG_RULES[rules.name]
        assert rules.max_tags == most
        assert rules.allows(key, value) == bool(key_re.fullmatch(key) and value_re.fullmatch(value)), rules.name


@given(name=text)
def test_an_image_name_made_valid_is_one_ims_accepts(name: str) -> None:
    made = image_name(name, "fallback")
    assert NAME_RE.fullmatch(made), made
    assert not made.startswith(" ") and not made.endswith(" ")


def test_a_key_at_the_length_limit_passes_and_one_longer_does_not() -> None:
    assert STRICT_TAGS.allows("k" * 36, "v" * 43) and not STRICT_TAGS.allows("k" * 37, "")
    assert not STRICT_TAGS.allows("k", "v" * 44) and not STRICT_TAGS.allows("", "v")
    assert RELAXED_TAGS.allows("团队 a@b", "x/y") and not STRICT_TAGS.allows("团队 a@b", "x/y")
