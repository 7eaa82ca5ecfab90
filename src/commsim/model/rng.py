"""Counter-based random numbers: a uniform is a hash of (seed, month, stream, index).

Kernels, the Python twin and the population builder all draw from the same function, so results do not
depend on thread count, iteration order or backend. `uniform` runs as plain Python when called from Python
and as the uint64 version below when called from Numba code; a test checks the two agree bit for bit.
"""

import zlib

import numpy as np
from numba import types
from numba.extending import overload

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Streams: one per decision, so that a change in one rule does not reshuffle the draws of another.
INTENTION, VISIT, REFER, DISCONTINUE, CHOICE, ADOPT, CHW_REFER, SERVE, FAILED, MEMBERSHIP = range(1, 11)
UNION, CONCEIVE, LOSS, ABORTION, MENSES, NEWCOMER, LEAVE, METHOD, RESUPPLY = range(11, 20)
ATTRITION, REPLACE, STOCKOUT, SWITCH, STOCKOUT_SWITCH, STOCKOUT_METHOD, STERILE, NOTICE = range(20, 28)
HANDOVER, PARTNER, SENSITISE, HEARD, LAPSE = 28, 29, 30, 31, 32
N_STREAMS = 33  # the monthly streams above (0 is unused)
BUILD = 100  # population streams are BUILD + k


def mix64(z: int) -> int:
    """The splitmix64 finaliser on a Python int."""
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def stream_key(seed: int, month: int, stream: int) -> int:
    """The 64-bit key for one (seed, month, stream); draws within it are indexed by agent."""
    return mix64((mix64((seed & MASK) ^ GOLDEN) + mix64(((stream << 32) | (month & 0xFFFFFFFF)) & MASK)) & MASK)


def stream_keys(seed: int, month: int, n: int) -> np.ndarray:
    """`stream_key(seed, month, s)` for s in 0..n-1 as uint64 (vectorised; same bits)."""
    with np.errstate(over="ignore"):
        base = np.uint64(mix64((seed & MASK) ^ GOLDEN))
        streams = (np.arange(n, dtype=np.uint64) << np.uint64(32)) | np.uint64(month & 0xFFFFFFFF)
        return _mix64_array(base + _mix64_array(streams))


def _mix64_array(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
    return z ^ (z >> np.uint64(31))


def name_stream(name: str) -> int:
    """A stable stream number for a named thing (an intervention), independent of Python's hash seed."""
    return 1000 + zlib.crc32(name.encode())


def uniform(key: int, i: int) -> float:
    """A uniform number in [0, 1) for agent `i` under `key`."""
    return (mix64((int(key) + (int(i) + 1) * GOLDEN) & MASK) >> 11) * TO_UNIT


@overload(uniform, jit_options={"inline": "always"})
def _uniform_jit(key, i):
    if not isinstance(key, types.Integer):
        return None

    def impl(key, i):
        z = np.uint64(key) + (np.uint64(i) + np.uint64(1)) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
        z = z ^ (z >> np.uint64(31))
        # below 2**53, so as a signed integer it converts to a float in one instruction (unsigned takes several)
        return np.float64(np.int64(z >> np.uint64(11))) * TO_UNIT

    return impl


def uniforms(key: int, n: int) -> np.ndarray:
    """`uniform(key, i)` for i in 0..n-1 as a float64 array (vectorised; same bits)."""
    z = np.uint64(key) + (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * TO_UNIT
