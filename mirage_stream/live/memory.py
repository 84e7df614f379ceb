"""Keeping a long-running receiver's memory flat.

Every segment allocates and frees tens of MB of frames, on several threads (generation runs off
the loop). glibc's allocator raises its mmap threshold after such frees, after which frames come
from per-thread heaps that fragment and are not given back: in ``bench soak`` the resident
size then swings by tens of MB from second to second and creeps up. With the threshold fixed at
1 MiB and two arenas it stays within a few MB: the segment-sized arrays (a 2 s segment at
320x240 is 13.8 MB) get their own mapping, returned to the OS when freed, while single frames
(230 KB) come from the heap, where a freed one is reused by the next at once. A threshold of
128 KiB held memory as flat but gave every frame its own mapping, and the page faults cost a
fifth of a call's CPU (``bench live --calls 4``: 0.41 against 0.34 cores per call; 4-minute
``bench soak --calls 2``: +0.9% RSS at 1 MiB, +2.9% with glibc's own dynamic threshold).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc mallopt parameters (malloc.h)
_M_ARENA_MAX = -8
FRAME_MMAP_THRESHOLD = 1024 * 1024  # bytes, held fixed: above a frame, below a segment
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
