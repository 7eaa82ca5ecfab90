"""The counter-based RNG: Python, Numba and vectorised versions agree bit for bit; the numbers look uniform;
keys separate seeds, months and streams; named streams are stable across processes."""

import math
import os
import subprocess
import sys
import zlib

import numba
import numpy as np
import pytest

from commsim.model import rng

N = 100_000
KEYS = (
    0,
    1,
    rng.stream_key(1, 1, rng.ADOPT),
    rng.stream_key(2**63 - 1, 1200, rng.STOCKOUT),
    2**63,  # the first key that does not fit an int64
    2**63 + 12345,
    2**64 - 1,
)


@numba.njit(cache=False)
def _jit_uniforms(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, i)
    return out


@numba.njit(cache=False)
def _jit_uniform_at(key, i):
    return rng.uniform(key, i)


def _python_uniforms(key: int, n: int) -> np.ndarray:
    return np.array([rng.uniform(key, i) for i in range(n)])


@pytest.mark.parametrize("key", KEYS, ids=[f"key{k:#x}" for k in KEYS])
def test_python_numba_and_vectorised_agree_bit_for_bit(key):
    py = _python_uniforms(key, N)
    jit = _jit_uniforms(np.uint64(key), N)
    vec = rng.uniforms(key, N)
    np.testing.assert_array_equal(py.view(np.uint64), vec.view(np.uint64))
    np.testing.assert_array_equal(jit.view(np.uint64), vec.view(np.uint64))


def test_numba_accepts_int64_keys_and_large_indices():
    key = next(k for k in (rng.stream_key(7, month, rng.INTENTION) for month in range(100)) if k < 2**63)
    for i in (0, 1, 2**31 - 1, 2**31, 2**40 + 17):
        expected = rng.uniform(key, i)
        assert _jit_uniform_at(np.int64(key), np.int64(i)) == expected
        assert _jit_uniform_at(np.uint64(key), np.int64(i)) == expected


@pytest.mark.parametrize("key", KEYS[1:5])
def test_values_look_uniform(key):
    u = rng.uniforms(key, N)
    assert u.dtype == np.float64
    assert u.min() >= 0.0
    assert u.max() < 1.0
    # 53-bit resolution: every value is an integer multiple of 2**-53
    scaled = u * 2.0**53
    np.testing.assert_array_equal(scaled, np.floor(scaled))
    # mean and variance within 5 standard errors of U(0,1)'s
    assert abs(u.mean() - 0.5) < 5 / math.sqrt(12 * N)
    sd_var = math.sqrt((1 / 80 - 1 / 144) / N)  # sd of the sample variance: (E[(U-1/2)^4] - 1/144) / n
    assert abs(u.var() - 1 / 12) < 5 * sd_var
    # ten equal bins: chi-square with 9 degrees of freedom, far below any plausible value for a uniform
    counts = np.bincount((u * 10).astype(int), minlength=10)
    chi2 = ((counts - N / 10) ** 2 / (N / 10)).sum()
    assert chi2 < 40.0
    # neighbouring indices are not correlated
    lag1 = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(lag1) < 5 / math.sqrt(N)


def test_different_keys_give_unrelated_streams():
    a = rng.uniforms(rng.stream_key(1, 1, rng.ADOPT), N)
    b = rng.uniforms(rng.stream_key(1, 1, rng.ADOPT + 1), N)
    assert not np.array_equal(a, b)
    assert np.count_nonzero(a == b) < 5
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(N)


def test_keys_differ_across_seeds_months_and_streams():
    seeds = (0, 1, 2, 3, 12345, 2**32, 2**63 - 1)
    months = range(0, 61)
    streams = (*range(0, 33), rng.BUILD, rng.BUILD + 30, rng.name_stream("group_training"))
    keys = {rng.stream_key(s, m, k) for s in seeds for m in months for k in streams}
    assert len(keys) == len(seeds) * len(months) * len(streams)
    assert all(0 <= k < 2**64 for k in keys)


def test_stream_key_is_deterministic_and_sensitive_to_each_argument():
    base = rng.stream_key(5, 12, rng.VISIT)
    assert rng.stream_key(5, 12, rng.VISIT) == base
    assert rng.stream_key(6, 12, rng.VISIT) != base
    assert rng.stream_key(5, 13, rng.VISIT) != base
    assert rng.stream_key(5, 12, rng.REFER) != base


def test_stream_numbers_are_distinct():
    named = [
        rng.INTENTION,
        rng.VISIT,
        rng.REFER,
        rng.DISCONTINUE,
        rng.METHOD,
        rng.RESUPPLY,
        rng.CHOICE,
        rng.ADOPT,
        rng.CHW_REFER,
        rng.SERVE,
        rng.FAILED,
        rng.UNION,
        rng.CONCEIVE,
        rng.LOSS,
        rng.ABORTION,
        rng.MENSES,
        rng.NEWCOMER,
        rng.LEAVE,
        rng.ATTRITION,
        rng.REPLACE,
        rng.STOCKOUT,
    ]
    assert len(set(named)) == len(named)
    assert max(named) < rng.BUILD


def test_name_stream_is_crc32_based():
    for name in ("group_training", "linkages", "feedback", "supply", "ü-é"):
        assert rng.name_stream(name) == 1000 + zlib.crc32(name.encode())
    assert rng.name_stream("linkages") != rng.name_stream("linkage")
    assert rng.name_stream("a") >= 1000


def test_name_stream_does_not_depend_on_the_hash_seed():
    expected = rng.name_stream("monthly_follow_up")
    script = "from commsim.model import rng; print(rng.name_stream('monthly_follow_up'))"
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert int(out.stdout.strip()) == expected


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 5, -7])
def test_vectorised_stream_keys_equal_the_scalar_ones(seed):
    for month in (0, 1, 60, 2**32 + 3):
        expected = np.array([rng.stream_key(seed, month, s) for s in range(32)], dtype=np.uint64)
        np.testing.assert_array_equal(rng.stream_keys(seed, month, 32), expected)
