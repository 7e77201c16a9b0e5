"""``load_event``: the sample events in ``events/``, with the image ID and region swapped in.

Every sample uses the placeholder image ID ``00000000-0000-0000-0000-0000000000aa`` (in the completion
samples it stands for the replica) and, where an event carries a region option, ``cn-north-4``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
PLACEHOLDER_IMAGE_ID = "00000000-0000-0000-0000-0000000000aa"
PLACEHOLDER_REGION = "cn-north-4"
_REGION_KEYS = ("region", "regions")


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of ``events/<name>`` (".json" may be left out).

    ``image_id=`` (or its alias ``replica_id=``) replaces the placeholder image ID wherever it occurs,
    including inside JSON carried in strings; ``region=`` replaces ``cn-north-4`` where it is the value
    of a ``region`` / ``regions`` option (also inside a TIMER ``user_event`` string).
    """
    accepted = {"image_id", "replica_id", "region"}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise TypeError(f"load_event: unknown overrides {unknown}; accepted: {sorted(accepted)}")
    if "image_id" in overrides and "replica_id" in overrides:
        raise TypeError("load_event: give image_id or replica_id, not both")
    image_id = overrides.get("image_id", overrides.get("replica_id"))
    region = overrides.get("region")
    file_name = name if name.endswith(".json") else f"{name}.json"
    event = json.loads((EVENTS_DIR / file_name).read_text(encoding="utf-8"))
    if not isinstance(event, dict):
        raise ValueError(f"events/{file_name} does not hold a JSON object")
    result: dict[str, Any] = _substitute(event, image_id, region, in_region_option=False)
    return result


def _substitute(value: Any, image_id: str | None, region: str | None, *, in_region_option: bool) -> Any:
    if isinstance(value, dict):
        return {
            key: _substitute(item, image_id, region, in_region_option=key in _REGION_KEYS)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, image_id, region, in_region_option=in_region_option) for item in value]
    if isinstance(value, str):
        if in_region_option and region is not None and value == PLACEHOLDER_REGION:
            return region
        embedded = _embedded_json(value)
        if embedded is not None and region is not None:
            # a JSON document inside a string (user_event, request, detail): substitute inside it
            replaced = _substitute(embedded, None, region, in_region_option=False)
            if replaced != embedded:
                value = json.dumps(replaced)
        if image_id is not None:
            value = value.replace(PLACEHOLDER_IMAGE_ID, image_id)
        return value
    return value


def _embedded_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
