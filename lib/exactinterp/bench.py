"""Benchmarks (``make bench`` / ``python -m exactinterp.bench``): measured figures, printed.

Not part of ``make test``: timings depend on the machine. Every row prints its target and the
*stacked float64 floor*: the float64 forward of the same model with all sequences in one numpy
pass (:meth:`~exactinterp.core.transformer.Transformer.forward_stacked`), the honest cost of
running the model at all. Times are CPU seconds of this process (``time.process_time``), which a
busy machine inflates less than wall-clock time; the load average is printed first.

1. scikit-learn's digits (1,797 images as 8 row tokens in R^9: row index and 8 pixels; the
   label as the target): hardmax wide (``max_width=None``) and narrow, construct + verify;
   softmax on the first 500 digits, verify;
2. N = 10,000 x n = 100 tokens (10^6), d = 8, m in {1, 2}, wide hardmax: construct + exact
   verify (exact forward and token-wise comparison with the targets) and peak memory, in a
   child process; its float64 floor is measured on a tenth of the sequences and scaled by 10;
3. fitted exponents in N (n = 100, N = 200 ... 1,600) of construct and verify time, wide,
   softmax and narrow, with the exact forward and the float64 floor apart;
4. exact / stacked-float64 ratios (exact forward against float forward of the same model);
5. the earlier rows: exact vs float64 forward of a ~50-block model on 10 x 1,000 tokens;
   N = 100, n = 1,000 construct + verify; exponent of exact verify time in n; bit lengths.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .book.families import uniform
from .construct import construct
from .core.dataset import Dataset
from .core.numbers import QQ, to_float_array
from .core.transformer import Transformer
from .verify import verify

#: The three regimes: construct options.
REGIMES: dict[str, dict[str, Any]] = {
    "wide": {"max_width": None},
    "narrow": {},
    "softmax": {"attention": "softmax"},
}


def _cpu(fn: Callable, *args: Any, **kw: Any) -> tuple[Any, float]:
    t = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - t


def digits(limit: int | None = None) -> Dataset:
    """scikit-learn's bundled digits as row sequences (:func:`image_rows`); nothing is downloaded."""
    from sklearn.datasets import load_digits  # heavy import, only for this benchmark

    data = load_digits()
    return image_rows(data.images.astype(int), data.target.astype(int), limit)


def image_rows(images: np.ndarray, labels: np.ndarray, limit: int | None = None) -> Dataset:
    """Integer images (N, rows, cols) -> N sequences of ``rows`` tokens (row index, pixel values);
    target of a sequence: the token (label, 0, ..., 0).

    The row index is a coordinate because a transformer without positional encoding sees a
    sequence as a multiset. Two equal images with different labels cannot be interpolated (a
    DatasetError): the later one is dropped.
    """
    value: dict[int, Any] = {}  # one object per integer: the tokens share their coordinates

    def q(k: int) -> Any:
        return value.setdefault(k, QQ(k))

    first: dict[bytes, int] = {}
    inputs, outputs = [], []
    for img, label in zip(images, labels, strict=True):
        if first.setdefault(img.tobytes(), int(label)) != label:
            continue
        inputs.append([[q(r)] + [q(int(v)) for v in img[r]] for r in range(img.shape[0])])
        outputs.append([[q(int(label))] + [q(0)] * img.shape[1]])
        if limit is not None and len(inputs) >= limit:
            break
    return Dataset(inputs, outputs)


def _float_input(ds: Dataset, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    seqs = [to_float_array(X) for X in ds.inputs[:count]]
    return np.concatenate(seqs), np.cumsum([0] + [len(X) for X in seqs])


def floor_seconds(T: Transformer, ds: Dataset, count: int | None = None) -> float:
    """CPU seconds of the stacked float64 forward of ``T`` on (the first ``count``) sequences of ``ds``."""
    F, offsets = _float_input(ds, count)
    return _cpu(T.forward_stacked, F, offsets)[1]


def exact_check(T: Transformer, ds: Dataset) -> bool:
    """The exact forward equals the targets token by token (verify without its float64 check)."""
    outs = T.forward_many(ds.inputs)
    return all(np.array_equal(out, ds.targets(j)) for j, out in enumerate(outs))


def measure(ds: Dataset, regime: str, with_verify: bool = True) -> dict:
    """Construct, verify, exact forward and stacked float64 floor of one dataset in one regime."""
    T, t_con = _cpu(construct, ds, **REGIMES[regime])
    out: dict[str, Any] = {"regime": regime, "N": ds.N, "tokens": sum(ds.n), "blocks": T.num_blocks}
    out["construct_s"] = t_con
    if with_verify:
        rep, out["verify_s"] = _cpu(verify, T, ds)
        out["ok"], out["float64_deviation"] = rep.ok, rep.float_deviation
    _, out["exact_forward_s"] = _cpu(T.forward_many, ds.inputs)
    out["floor_s"] = floor_seconds(T, ds)
    out["exact_over_floor"] = out["exact_forward_s"] / out["floor_s"]
    return out


# ----------------------------------------------------------------------------- rows


def row_digits(quick: bool = False) -> list[dict]:
    """Row 1: digits, wide and narrow (construct + verify), softmax on 500 digits (verify)."""
    limit = 150 if quick else None
    full = digits(limit)
    out = []
    for regime, target in (("wide", 5.0), ("narrow", 15.0)):
        r = measure(full, regime)
        r["what"], r["target_s"], r["timed_s"] = "construct + verify", target, r["construct_s"] + r["verify_s"]
        out.append(r)
    r = measure(digits(50 if quick else 500), "softmax")
    r["what"], r["target_s"], r["timed_s"] = "verify", 5.0, r["verify_s"]
    out.append(r)
    return out


def _fmt_digits(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        ok = "yes" if r["timed_s"] <= r["target_s"] else "NO"
        lines.append(
            f"[1] digits {r['regime']:7s} N = {r['N']}, {r['tokens']} tokens, {r['blocks']} blocks: construct "
            f"{r['construct_s']:.2f} s, verify {r['verify_s']:.2f} s; {r['what']} {r['timed_s']:.2f} s "
            f"(target <= {r['target_s']:g} s: {ok}); stacked-float floor {r['floor_s']:.2f} s; "
            f"exact {r['ok']}, float64 deviation {r['float64_deviation']:.3g}"
        )
    return "\n".join(lines)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_child(N: int, n: int) -> dict:
    """Row 2 in this process (run it in a fresh one for its peak memory)."""
    base = _peak_mb()
    ds, t_data = _cpu(uniform, N, n, 8, (1, 2), 0)
    T, t_con = _cpu(construct, ds, max_width=None)
    ok, t_ver = _cpu(exact_check, T, ds)
    peak = _peak_mb()
    k = max(1, N // 10)
    floor = floor_seconds(T, ds, k) * N / k
    return {
        "N": N,
        "n": n,
        "tokens": N * n,
        "blocks": T.num_blocks,
        "width": max(b.ff.width for b in T.blocks),
        "dataset_s": t_data,
        "construct_s": t_con,
        "exact_verify_s": t_ver,
        "ok": ok,
        "import_mb": base,
        "peak_mb": peak,
        "floor_s": floor,
        "floor_sample": k,
    }


def row_big(quick: bool = False) -> dict:
    """Row 2: 10^6 tokens, wide hardmax, in a child process (its peak resident memory is the row's)."""
    N = 200 if quick else 10_000
    cmd = [sys.executable, "-m", "exactinterp.bench", "--big-child", str(N)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fmt_big(r: dict) -> str:
    total = r["construct_s"] + r["exact_verify_s"]
    ok_t = "yes" if total <= 300 else "NO"
    ok_m = "yes" if r["peak_mb"] <= 4096 else "NO"
    return (
        f"[2] wide hardmax, N = {r['N']} x n = {r['n']} ({r['tokens']:,} tokens), d = 8, m <= 2: {r['blocks']} blocks "
        f"(FF width up to {r['width']}); construct {r['construct_s']:.1f} s + exact verify {r['exact_verify_s']:.1f} s "
        f"= {total:.1f} s (target <= 300 s: {ok_t}); peak memory {r['peak_mb']:.0f} MB (target <= 4096 MB: {ok_m}; "
        f"{r['import_mb']:.0f} MB after imports); exact {r['ok']}; dataset built in {r['dataset_s']:.1f} s; "
        f"stacked-float floor {r['floor_s']:.0f} s (measured on {r['floor_sample']} sequences, scaled)"
    )


def _slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(np.maximum(ys, 1e-9)), 1)[0])


def row_exponents(quick: bool = False) -> dict:
    """Row 3: times against N (n = 100, d = 8) in the three regimes, and their fitted exponents."""
    Ns = [20, 40, 80] if quick else [200, 400, 800, 1600]
    out: dict[str, Any] = {"N": Ns}
    for regime in ("wide", "softmax", "narrow"):
        runs = [measure(uniform(N, 100, 8, seed=0), regime) for N in Ns]
        out[regime] = {
            "runs": runs,
            **{
                f"exp_{k}": _slope(Ns, [r[f"{k}_s"] for r in runs])
                for k in ("construct", "verify", "exact_forward", "floor")
            },
        }
    return out


#: Row 3 targets: (regime, quantity) -> largest fitted exponent.
EXPONENT_TARGETS = {
    ("wide", "construct"): 1.15,
    ("wide", "verify"): 1.15,
    ("softmax", "construct"): 1.15,
    ("softmax", "verify"): 1.15,
    ("narrow", "verify"): 1.3,
}


def _fmt_exponents(res: dict) -> str:
    lines = []
    for regime in ("wide", "softmax", "narrow"):
        r = res[regime]
        for k in ("construct", "verify", "exact_forward", "floor"):
            pts = ", ".join(f"{run[f'{k}_s']:.2f}" for run in r["runs"])
            target = EXPONENT_TARGETS.get((regime, k))
            tgt = f" (target <= {target}: {'yes' if r[f'exp_{k}'] <= target else 'NO'})" if target else ""
            name = {"floor": "stacked-float floor", "exact_forward": "exact forward"}.get(k, k)
            lines.append(
                f"[3] {regime:7s} {name:19s} N = {', '.join(map(str, res['N']))}: {pts} s; "
                f"fitted exponent {r[f'exp_{k}']:.2f}{tgt}"
            )
    return "\n".join(lines)


def _fmt_ratios(rows: list[dict], res: dict | None) -> str:
    targets = {"wide": 3.0, "narrow": 10.0, "softmax": 10.0}
    lines = []
    cases = [(f"digits N = {r['N']}", r) for r in rows]
    if res:
        cases += [
            (f"uniform N = {run['N']} x 100", run) for reg in ("wide", "softmax", "narrow") for run in res[reg]["runs"]
        ]
    for name, r in cases:
        t = targets[r["regime"]]
        ok = "yes" if r["exact_over_floor"] <= t else "NO"
        lines.append(
            f"[4] {r['regime']:7s} {name}: exact forward {r['exact_forward_s']:.2f} s / stacked-float floor "
            f"{r['floor_s']:.2f} s = {r['exact_over_floor']:.2f} (target <= {t:g}: {ok})"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the earlier rows


def bench_forward(blocks_target: int = 50, N: int = 10, n: int = 1000, d: int = 8) -> dict:
    """Exact vs float64 forward of one constructed model with about ``blocks_target`` blocks."""
    sum_m = (blocks_target - 2) // 2
    m = [1] * N
    for k in range(sum_m - N):
        m[k % N] += 1
    base = uniform(N, n, d, seed=1)
    ds = Dataset(base.inputs, [_targets(d, j, m[j]) for j in range(N)])
    T = construct(ds)
    _, t_exact = _cpu(T.forward_many, ds.inputs)
    t_float = floor_seconds(T, ds)
    return {"blocks": T.num_blocks, "N": N, "n": n, "d": d, "exact_s": t_exact, "float64_s": t_float}


def _targets(d: int, j: int, m: int) -> list:
    rng = np.random.default_rng(100 + j)
    return [[QQ(int(v), 7) for v in rng.integers(-70, 71, size=d)] for _ in range(m)]


def bench_construct(N: int = 100, n: int = 1000, d: int = 8) -> dict:
    ds = uniform(N, n, d)
    T, t_con = _cpu(construct, ds)
    rep, t_ver = _cpu(verify, T, ds)
    bn, bd = T.max_bits()
    return {
        "N": N,
        "n": n,
        "d": d,
        "sum_m": ds.sum_m,
        "blocks": T.num_blocks,
        "construct_s": t_con,
        "verify_s": t_ver,
        "floor_s": floor_seconds(T, ds),
        "ok": rep.ok,
        "float64_deviation": rep.float_deviation,
        "max_numerator_bits": bn,
        "max_denominator_bits": bd,
    }


def bench_exponent(ns=(250, 500, 1000, 2000, 4000), N: int = 20, d: int = 8) -> dict:
    """Fit log(time of exact verify) against log(n) on the same leaders' structure."""
    times = []
    for n in ns:
        ds = uniform(N, n, d, seed=3)
        T = construct(ds)
        times.append(_cpu(verify, T, ds)[1])
    return {"N": N, "d": d, "n": list(ns), "verify_s": times, "exponent": _slope(list(ns), times)}


def _fmt_earlier(f: dict, c: dict, e: dict) -> str:
    pts = ", ".join(f"n={n}: {t:.2f} s" for n, t in zip(e["n"], e["verify_s"], strict=True))
    return (
        f"[5] forward, {f['blocks']} blocks, {f['N']} x {f['n']} tokens, d = {f['d']}: exact {f['exact_s']:.2f} s, "
        f"stacked-float floor {f['float64_s']:.3f} s, ratio {f['exact_s'] / f['float64_s']:.1f}\n"
        f"[5] hardmax, N = {c['N']}, n = {c['n']}, d = {c['d']}, sum m = {c['sum_m']}: {c['blocks']} blocks; "
        f"construct {c['construct_s']:.1f} s + verify {c['verify_s']:.1f} s (target <= 60 s); stacked-float floor "
        f"{c['floor_s']:.2f} s; exact {c['ok']}; float64 deviation {c['float64_deviation']:.3g}; largest numerator "
        f"{c['max_numerator_bits']} bits, denominator {c['max_denominator_bits']} bits\n"
        f"[5] verify time vs n (N = {e['N']}): {pts}; fitted exponent {e['exponent']:.2f} (target <= 1.1)"
    )


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exactinterp.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run; the targets do not apply)")
    p.add_argument("--rows", default="1,2,3,4,5", help="rows to run, e.g. 1,4 (4 uses the runs of 1 and 3)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--big-child", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.big_child:
        print(json.dumps(big_child(a.big_child, 100)))
        return 0
    rows = {int(r) for r in a.rows.split(",")}
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores", flush=True)
    res: dict[str, Any] = {}
    if 1 in rows or 4 in rows:
        res["digits"] = row_digits(a.quick)
        print(_fmt_digits(res["digits"]), flush=True)
    if 2 in rows:
        res["big"] = row_big(a.quick)
        print(_fmt_big(res["big"]), flush=True)
    if 3 in rows:
        res["exponents"] = row_exponents(a.quick)
        print(_fmt_exponents(res["exponents"]), flush=True)
    if 4 in rows:
        print(_fmt_ratios(res["digits"], res.get("exponents")), flush=True)
    if 5 in rows:
        small = {"blocks_target": 20, "N": 4, "n": 200} if a.quick else {}
        res["earlier"] = (
            bench_forward(**small),
            bench_construct(**({"N": 10, "n": 200} if a.quick else {})),
            bench_exponent(**({"ns": (100, 200, 400), "N": 5} if a.quick else {})),
        )
        print(_fmt_earlier(*res["earlier"]), flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
