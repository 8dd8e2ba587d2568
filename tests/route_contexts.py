"""Each route's request handling built once per test process, not once per application.

FastAPI builds an included route's handling (its dependant, a pydantic adapter per parameter, its response
field) lazily, per application, when a request first reaches its router: 0.2-0.4 s for an app's first requests. A
server builds it once (its warm start does it before the first request). The suite creates several hundred apps,
one per test database, and each paid it again: a quarter of the time of tests/web and tests/api.

What FastAPI builds is a function of the route and of its inclusion (prefix, tags, dependencies, response
class, limits...), and of the app only through `dependency_overrides_provider`, whose overrides this suite
never sets (checked at every use: an app with overrides builds its own). So the built state is shared between
apps whose inclusion is the same in every other respect. FastAPI's private API: without it (another version),
`install` changes nothing and the apps build their own, as before.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

_cache: dict[tuple[Any, ...], Any] = {}
_kept: dict[int, Any] = {}  # every object whose id is in a key stays alive: no id is reused by another object
SHARED = {"built": 0, "reused": 0}


def _key(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | enum.Enum):
        return ("value", value)
    if isinstance(value, list | tuple):
        return ("list", tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _key(v)) for k, v in value.items())))
    if type(value).__name__ == "DefaultPlaceholder":
        return ("default", _key(value.value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("dataclass", type(value), tuple(_key(getattr(value, f.name)) for f in dataclasses.fields(value)))
    _kept.setdefault(id(value), value)
    return ("object", id(value))


def _inclusion(context: Any) -> tuple[Any, ...]:
    fields = dataclasses.fields(context)
    return tuple((f.name, _key(getattr(context, f.name))) for f in fields if f.name != "dependency_overrides_provider")


def install() -> None:
    try:
        from fastapi.routing import _IncludedRouter, _RouterIncludeContext
    except ImportError:  # another FastAPI: every app builds its own
        return
    build: Callable[..., Any] = _IncludedRouter._build_effective_context
    if getattr(build, "shared_between_apps", False) or not dataclasses.is_dataclass(_RouterIncludeContext):
        return

    def shared(self: Any, route: Any) -> Any:
        provider = getattr(self.include_context, "dependency_overrides_provider", None)
        if getattr(provider, "dependency_overrides", None):
            return build(self, route)
        key = (_key(route), _inclusion(self.include_context))
        if key not in _cache:
            _cache[key] = build(self, route)
            SHARED["built"] += 1
        else:
            SHARED["reused"] += 1
        return _cache[key]

    shared.shared_between_apps = True  # type: ignore[attr-defined]
    _IncludedRouter._build_effective_context = shared  # type: ignore[method-assign]
