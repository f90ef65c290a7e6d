"""Benchmarks (``make bench`` / ``python -m exactinterp.bench``): measured figures, printed.

Not part of ``make test``: timings depend on the machine. Sections:

1. exact vs float64 forward of one transformer of ~50 blocks on 10 sequences of 1,000 tokens, d = 8;
2. exact construct + verify, hardmax, N = 100, n_j = 1,000, d = 8, m^j in {1, 2, 3};
3. float64 verify of the same model and the exact / float64 ratio;
4. fitted exponent of exact verify time against n in {250, 500, 1000, 2000, 4000};
5. largest numerator / denominator bit lengths of the exported model.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .book.families import uniform
from .construct import construct
from .core.dataset import Dataset
from .core.numbers import QQ, to_float_array
from .verify import verify


def _timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def bench_forward(blocks_target: int = 50, N: int = 10, n: int = 1000, d: int = 8) -> dict:
    """Exact vs float64 forward of one constructed model with about ``blocks_target`` blocks."""
    sum_m = (blocks_target - 2) // 2
    m = [1] * N
    for k in range(sum_m - N):
        m[k % N] += 1
    base = uniform(N, n, d, seed=1)
    ds = Dataset(base.inputs, [_targets(d, j, m[j]) for j in range(N)])
    T = construct(ds)
    Xs = ds.inputs
    _, t_exact = _timed(T.forward_many, Xs)
    Fs = [to_float_array(X) for X in Xs]
    _, t_float = _timed(T.forward_many, Fs, exact=False)
    return {
        "blocks": T.num_blocks,
        "N": N,
        "n": n,
        "d": d,
        "exact_s": t_exact,
        "float64_s": t_float,
        "ratio": t_exact / t_float,
    }


def _targets(d: int, j: int, m: int) -> list:
    rng = np.random.default_rng(100 + j)
    return [[QQ(int(v), 7) for v in rng.integers(-70, 71, size=d)] for _ in range(m)]


def bench_construct(N: int = 100, n: int = 1000, d: int = 8) -> dict:
    ds, t_data = _timed(uniform, N, n, d)
    T, t_con = _timed(construct, ds)
    rep, t_ver = _timed(verify, T, ds)
    Fs = [to_float_array(X) for X in ds.inputs]
    _, t_float = _timed(T.forward_many, Fs, exact=False)
    bn, bd = T.max_bits()
    return {
        "N": N,
        "n": n,
        "d": d,
        "sum_m": ds.sum_m,
        "blocks": T.num_blocks,
        "nonzero_parameters": T.num_parameters,
        "dataset_s": t_data,
        "construct_s": t_con,
        "verify_exact_s": t_ver,
        "construct_plus_verify_s": t_con + t_ver,
        "verify_float64_s": t_float,
        "exact_over_float64": t_ver / t_float,
        "ok": rep.ok,
        "float64_max_deviation": rep.float_deviation,
        "max_numerator_bits": bn,
        "max_denominator_bits": bd,
    }


def bench_exponent(ns=(250, 500, 1000, 2000, 4000), N: int = 20, d: int = 8) -> dict:
    """Fit log(time of exact verify) against log(n) on the same leaders' structure."""
    times = []
    for n in ns:
        ds = uniform(N, n, d, seed=3)
        T = construct(ds)
        _, t = _timed(verify, T, ds)
        times.append(t)
    slope = float(np.polyfit(np.log(ns), np.log(times), 1)[0])
    return {"N": N, "d": d, "n": list(ns), "verify_exact_s": times, "exponent": slope}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exactinterp.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    p.add_argument("--json", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    res = {}
    if a.quick:
        res["forward"] = bench_forward(blocks_target=20, N=4, n=200)
        res["construct"] = bench_construct(N=10, n=200)
        res["exponent"] = bench_exponent(ns=(100, 200, 400), N=5)
    else:
        res["forward"] = bench_forward()
        print(_fmt_forward(res["forward"]), flush=True)
        res["construct"] = bench_construct()
        print(_fmt_construct(res["construct"]), flush=True)
        res["exponent"] = bench_exponent()
        print(_fmt_exponent(res["exponent"]), flush=True)
    if a.quick:
        print(_fmt_forward(res["forward"]))
        print(_fmt_construct(res["construct"]))
        print(_fmt_exponent(res["exponent"]))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


def _fmt_forward(r: dict) -> str:
    return (
        f"[1] forward, {r['blocks']} blocks, {r['N']} x {r['n']} tokens, d = {r['d']}: exact {r['exact_s']:.2f} s, "
        f"float64 {r['float64_s']:.3f} s, ratio {r['ratio']:.1f}"
    )


def _fmt_construct(r: dict) -> str:
    return (
        f"[2] hardmax, N = {r['N']}, n = {r['n']}, d = {r['d']}, sum m = {r['sum_m']}: {r['blocks']} blocks, "
        f"{r['nonzero_parameters']} nonzero parameters; construct {r['construct_s']:.1f} s + exact verify "
        f"{r['verify_exact_s']:.1f} s = {r['construct_plus_verify_s']:.1f} s (target <= 60 s); ok = {r['ok']}\n"
        f"[3] float64 verify {r['verify_float64_s']:.2f} s; exact / float64 = {r['exact_over_float64']:.1f} "
        f"(target <= 20); float64 max deviation {r['float64_max_deviation']:.3g}\n"
        f"[5] largest numerator {r['max_numerator_bits']} bits, denominator {r['max_denominator_bits']} bits"
    )


def _fmt_exponent(r: dict) -> str:
    pts = ", ".join(f"n={n}: {t:.2f} s" for n, t in zip(r["n"], r["verify_exact_s"], strict=True))
    return f"[4] exact verify time vs n (N = {r['N']}): {pts}; fitted exponent {r['exponent']:.2f} (target <= 1.1)"


if __name__ == "__main__":
    raise SystemExit(main())
