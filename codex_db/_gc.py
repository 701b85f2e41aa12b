"""`no_gc`: hold off CPython's cyclic garbage collector while a page of rows is built.

Building a list of N rows allocates about 3N container objects (the row
tuples, the structs, the decoded jsonb lists and dicts), none of them garbage.
Each 700 allocations start a generation-0 pass over everything young, every
tenth of those a generation-1 pass, and eventually a full one: for a page of
1,000 ``content`` rows those passes were a third of the client CPU. The pause
lasts for one ``fetchall`` and the construction of its rows (no I/O), then the
collector resumes with its usual thresholds; reference counting frees
everything as usual meanwhile.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType

__all__ = ["no_gc"]

_lock = threading.Lock()
_depth = 0
_resume = False


class _NoGC:
    """Reentrant and thread-aware: the collector resumes when the last pause ends,
    and only if it was enabled when the first one began (``gc.disable()`` is respected).
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _depth, _resume
        with _lock:
            if _depth == 0:
                _resume = gc.isenabled()
                gc.disable()
            _depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


#: ``with no_gc: rows = [make(*r) for r in cursor.fetchall()]``
no_gc = _NoGC()
