"""Requests in Redis as JSON, not pickle: a process that can write to Redis can queue URLs,
never run code in the workers (`SCHEDULER_SERIALIZER`, set by `crawler.redis.ScaleOut`).

A scrapy-redis serializer: a module with `dumps(obj) -> bytes` and `loads(bytes) -> obj`,
given `Request.to_dict()` dicts. JSON cannot say everything those hold, so a few tagged
objects carry the rest: bytes (`{"$b": base64}`), dicts with non-string keys (headers:
`{"$d": [[k, v], ...]}`), tuples, and the meta values the spider uses, by an allow-list of
types: `Hints` (a dataclass) and the pydantic models of `schemas`. Anything else is a
`TypeError` (the scheduler then keeps that request in its own process). On the way in,
`_class` (the request class `request_from_dict` would import and call) must name a Scrapy
request class; callbacks are names of spider methods, looked up on the spider by Scrapy.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import orjson
from pydantic import BaseModel

from crawler.extract.types import Hints
from schemas.post import PostRecord, Tombstone, WarcRef

_DATACLASSES: dict[str, type] = {"Hints": Hints}
_MODELS: dict[str, type[BaseModel]] = {
    "PostRecord": PostRecord,
    "Tombstone": Tombstone,
    "WarcRef": WarcRef,
}
REQUEST_CLASSES = frozenset(
    {
        "scrapy.http.request.Request",
        "scrapy.http.Request",
        "scrapy.Request",
        "scrapy.http.request.form.FormRequest",
        "scrapy.http.request.json_request.JsonRequest",
    }
)


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": [_encode(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    name = type(value).__name__
    if isinstance(value, BaseModel) and _MODELS.get(name) is type(value):
        return {"$m": name, "v": value.model_dump(mode="json")}
    if dataclasses.is_dataclass(value) and _DATACLASSES.get(name) is type(value):
        return {"$c": name, "v": _encode(dataclasses.asdict(value))}
    raise TypeError(f"cannot put a {type(value).__qualname__} into Redis as JSON")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$b" in value:
        return base64.b64decode(value["$b"])
    if "$t" in value:
        return tuple(_decode(v) for v in value["$t"])
    if "$d" in value:
        return {_decode(k): _decode(v) for k, v in value["$d"]}
    if "$m" in value:
        return _MODELS[value["$m"]].model_validate(value["v"])
    if "$c" in value:
        return _DATACLASSES[value["$c"]](**_decode(value["v"]))
    return {k: _decode(v) for k, v in value.items()}


def dumps(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(_encode(obj))


def loads(data: bytes | str) -> dict[str, Any]:
    """A request dict; ValueError for anything that is not one we would have written."""
    try:
        obj = _decode(orjson.loads(data))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a request written by crawler.redis_codec: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise ValueError("not a request written by crawler.redis_codec")
    cls = obj.get("_class")
    if cls is not None and cls not in REQUEST_CLASSES:
        raise ValueError(f"refused request class {cls!r} from Redis")
    for name in ("callback", "errback"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise ValueError(f"refused {name} {obj[name]!r} from Redis")
    return obj
