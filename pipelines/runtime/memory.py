"""Keep a worker's memory flat while it handles many large images at once.

glibc gives each thread its own malloc arena and, after the first large buffer is freed, raises
its mmap threshold so later image-sized buffers come from those arenas and stay there: with 16
renders of 2048x2048 images in flight, the worker's RSS kept growing by hundreds of megabytes it
no longer used. A fixed mmap threshold returns every large buffer to the OS when it is freed, and
a cap on arenas bounds the rest.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD = 1 << 20  # buffers of 1 MiB and more (an image row block, a decoded image) are mmapped
ARENA_MAX = 4

log = logging.getLogger(__name__)


def tune_malloc() -> bool:
    """Apply the settings above where the C library is glibc; returns whether it did."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc (musl, macOS): nothing to tune
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENA_MAX))
    if not ok:
        log.info("mallopt refused the worker's memory settings; continuing with the defaults")
    return ok
