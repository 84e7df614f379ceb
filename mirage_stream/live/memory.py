"""Keeping a long-running receiver's memory flat.

Every segment allocates and frees tens of MB of frames, on several threads (generation runs off
the loop). glibc's allocator raises its mmap threshold after such frees, after which frames come
from per-thread heaps that fragment and are not given back: in ``bench soak`` the resident
size then swings by tens of MB from second to second and creeps up. With the threshold fixed at
128 KiB (every frame its own mapping, returned to the OS when freed) and two arenas it stays
within a few MB (README, "Reliability, measured").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc mallopt parameters (malloc.h)
_M_ARENA_MAX = -8
FRAME_MMAP_THRESHOLD = 128 * 1024  # bytes: glibc's default starting threshold, held fixed
ARENAS = 2


def return_freed_frames_to_the_os() -> bool:
    """Set glibc's allocator so freed frames go back to the OS; False where it is not glibc
    (macOS, Windows, musl), where nothing is changed."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, FRAME_MMAP_THRESHOLD)) and bool(
        mallopt(_M_ARENA_MAX, ARENAS)
    )
    if not done:
        log.debug("mallopt refused; the allocator keeps its defaults")
    return done
