"""JSON answers written by orjson: an offers answer is some 50 KB of nested objects, and
the standard library's encoder was a twentieth of the web process's CPU under load.

Types Flask's own provider writes in its own way (dates and times as HTTP dates,
dataclasses, decimals, UUIDs, objects with `__html__`) are passed on to it, so every
answer reads as before; calls with options (`indent`, `sort_keys`, …) go to it whole.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_PASS_ON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_OPTIONS = _PASS_ON | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False  # keys in the order the code builds them, as orjson writes them

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
