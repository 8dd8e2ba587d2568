"""`loaded_once`: functools.cache for the reference tables, which then leave the garbage collector's sight.

The tables (UN/LOCODE, places, CITES names, substances, HS codes) hold millions of Python objects that live as
long as the process and never form garbage. Left tracked, every full collection walks them all: a 1,000-case
bulk create spent 0.6 s of its 2 s in collections set off by building its rows. After a table loads,
`gc.freeze()` moves every object alive at that moment to the permanent generation (the few transient objects
of that moment are kept too: a bounded cost, once per table and process). At exit they are handed back
(`gc.unfreeze`), so that the interpreter's shutdown frees them as before (native extensions report frozen
objects as leaks).
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
atexit.register(gc.unfreeze)
T_co = TypeVar("T_co", covariant=True)


class Loaded(Protocol[T_co]):
    def __call__(self, *args: Any, **kwargs: Any) -> T_co: ...

    def cache_clear(self) -> None: ...


def loaded_once(fn: Callable[..., T]) -> Loaded[T]:
    cached = cache(fn)

    @wraps(fn)
    def load(*args: Any, **kwargs: Any) -> T:
        before = cached.cache_info().currsize
        value = cached(*args, **kwargs)
        if cached.cache_info().currsize != before:
            gc.freeze()
        return value

    load.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return load  # type: ignore[return-value]


__all__ = ["loaded_once"]
