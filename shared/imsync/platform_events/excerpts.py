"""Short, escaped excerpts of untrusted input, for error messages that must never echo it at length.

Standard library only: the event parsers use it on every cold start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["excerpt", "key_names", "kind"]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def kind(value: object) -> str:
    """What a JSON value is, in words ("a string", "an object", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a " + _clip(type(value).__name__, 30)


def excerpt(value: object, limit: int = 60) -> str:
    """A short, escaped excerpt of a value: a string's first ``limit`` characters, a container's size."""
    if isinstance(value, str):
        text = _clip(repr(value[:limit]), limit + 20)
        return text if len(value) <= limit else f"{text}... ({len(value)} characters)"
    if value is None or isinstance(value, (bool, float)):
        return _clip(repr(value), limit)
    if isinstance(value, int):
        try:
            return _clip(repr(value), limit)
        except ValueError:  # more digits than int->str allows
            return "a very large number"
    if isinstance(value, Mapping):
        return f"an object with {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    return kind(value)


def key_names(keys: Iterable[object]) -> str:
    """The first four keys as short excerpts, then how many more there are."""
    shown = [excerpt(key, 24) for key in keys]
    if len(shown) > 4:
        return ", ".join(shown[:4]) + f" and {len(shown) - 4} more"
    return ", ".join(shown)
