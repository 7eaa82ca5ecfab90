"""A machine anchor: the least a household-month can cost here, as a rate to divide the model's by.

One household rule, written for the benchmark (it is not the model): awareness `a` decays by a tenth, gains
0.05 x the share of adopters in her 100-household village (last month's) and 0.2 more if a first uniform is
below 0.05 (capped at 1); an adopter stops if a second uniform is below 0.01, a non-adopter adopts if it is
below 0.1 / (1 + exp(-10 (a - 0.5))). The two uniforms are `commsim.model.rng.uniform`, the counter-based hash
the model's kernels draw from, so the anchor does the same kind of work per draw: hashing, a branch, an `exp`,
a store. The loop is parallel over villages (prange); each village reads last month's shares and writes its
own next share, so any thread count gives the same bits. 9 bytes of state per household (float64 + uint8).

    anchor = Anchor(1_000_000)
    anchor.step()              # one month
    anchor.rate(min_seconds=1)  # household-months per second on numba's current thread count
"""

import math
import time

import numpy as np
from numba import prange

from commsim.model.kernels import kernel
from commsim.model.rng import stream_key, uniform

VILLAGE = 100  # households per village
AWARE, ADOPT = 1, 2  # the anchor's two streams


@kernel(parallel=True)
def anchor_month(awareness, adopted, share, next_share, key_aware, key_adopt):
    """One month of every household, parallel over villages; next_share[v] is village v's adopter share."""
    n = awareness.size
    for v in prange(share.size):
        lo = v * VILLAGE
        hi = min(lo + VILLAGE, n)
        gain = 0.05 * share[v]
        users = 0
        for i in range(lo, hi):
            a = awareness[i] - 0.1 * awareness[i] + gain
            if uniform(key_aware, i) < 0.05:
                a += 0.2
            a = min(a, 1.0)
            awareness[i] = a
            u = uniform(key_adopt, i)
            if adopted[i] == 1:
                if u < 0.01:
                    adopted[i] = 0
            elif u < 0.1 / (1.0 + math.exp(-10.0 * (a - 0.5))):
                adopted[i] = 1
            users += adopted[i]
        next_share[v] = users / (hi - lo)


class Anchor:
    """n households in villages of 100, every one aware 0.5 and a tenth adopting at the start."""

    def __init__(self, n: int, seed: int = 1) -> None:
        self.n = n
        self.seed = seed
        self.month = 0
        villages = -(-n // VILLAGE)
        self.awareness = np.full(n, 0.5)
        self.adopted = (np.arange(n) % 10 == 0).astype(np.uint8)
        self.share = np.full(villages, 0.1)
        self.next_share = np.empty(villages)

    def step(self) -> None:
        self.month += 1
        key_aware = np.uint64(stream_key(self.seed, self.month, AWARE))
        key_adopt = np.uint64(stream_key(self.seed, self.month, ADOPT))
        anchor_month(self.awareness, self.adopted, self.share, self.next_share, key_aware, key_adopt)
        self.share, self.next_share = self.next_share, self.share

    def time_steps(self, min_months: int, min_seconds: float, max_months: int = 100_000) -> tuple[int, float]:
        """(months, seconds) of stepping until both at least min_months and min_seconds are done."""
        months = 0
        start = time.perf_counter()
        while True:
            self.step()
            months += 1
            elapsed = time.perf_counter() - start
            if months >= max_months or (months >= min_months and elapsed >= min_seconds):
                return months, elapsed

    def adopters(self) -> float:
        return float(self.adopted.mean())
