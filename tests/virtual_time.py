"""An asyncio event loop on virtual time, for tests of pacing and overload in pure asyncio code.

When nothing is ready, the loop's clock jumps straight to the next timer instead of waiting:
``asyncio.sleep(0.02)`` takes no wall time and every sleep ends in exactly the order its
virtual deadline says, however busy the machine. Waits on file descriptors (threads handing
back results) still block for real when no timer is due.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:  # no timer pending: only a descriptor can wake the loop
            return super().select(None)
        ready = super().select(0)
        if not ready and timeout > 0:
            self.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        return self._jumping.now


def run_in_virtual_time(main: Coroutine[Any, Any, T]) -> tuple[T, float]:
    """Run ``main`` to the end; its result and the virtual seconds it took."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        result = runner.run(main)
        return result, runner.get_loop().time()
