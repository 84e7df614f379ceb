"""A native object (a PyAV container) that worker threads use and any thread may close.

A consumer of an async source can be cancelled while a worker thread is still inside FFmpeg
(``av_read_frame``, a decoder): the ``await`` ends at once, the thread does not. Closing the
container from the event loop then frees it under the worker, a use-after-free that kills the
process with a segmentation fault. ``WorkerOwned`` closes the object only when no thread is
inside it: ``close()`` never blocks; if a worker is in, the worker closes it on its way out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class ClosedError(RuntimeError):
    """The object was closed (or its close asked for) before this use began."""


class WorkerOwned(Generic[T]):
    """``value`` used by one thread at a time through ``use()``; freed by ``release(value)``
    exactly once, never while a ``use()`` is in progress."""

    def __init__(self, value: T, release: Callable[[T], None]) -> None:
        self._value = value
        self._release = release
        self._state = threading.Lock()  # guards the three flags below, held only briefly
        self._busy = False
        self._close_asked = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once the object is freed (a close asked for during a use comes true after it)."""
        return self._closed

    @contextmanager
    def use(self) -> Iterator[T]:
        """The object, for this thread alone until the block ends; ClosedError after close()."""
        with self._state:
            if self._close_asked:
                raise ClosedError("used after close")
            if self._busy:
                raise RuntimeError("used by two threads at once")
            self._busy = True
        try:
            yield self._value
        finally:
            with self._state:
                self._busy = False
                release_now = self._close_asked and not self._closed
                self._closed = self._closed or release_now
            if release_now:
                self._release(self._value)

    def close(self) -> None:
        """Free the object now if no thread is inside it, else as soon as that thread leaves.
        Safe to call from any thread, any number of times; it never waits."""
        with self._state:
            self._close_asked = True
            release_now = not self._busy and not self._closed
            self._closed = self._closed or release_now
        if release_now:
            self._release(self._value)
