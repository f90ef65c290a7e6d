"""Robustness: adversarial datasets are interpolated exactly, invalid ones refused, never a wrong model.

Property tests draw from ``tests/strategies.py`` (derandomized, no example database: CI is
reproducible); the regression corpus ``tests/data/manifest.json`` runs through the API and the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import FAMILIES, invalid_datasets, valid_datasets

from exactinterp import (
    Block,
    ConstructionError,
    Dataset,
    DatasetError,
    FeedForward,
    SelfAttention,
    Transformer,
    construct,
    verify,
)
from exactinterp.book.experiments import trace_table
from exactinterp.book.families import depth
from exactinterp.cli import main
from exactinterp.construct.bounds import hardmax_block_bound
from exactinterp.construct.primitives import eye
from exactinterp.core.numbers import QQ, q_matrix
from exactinterp.verify.floats import block_gain, float_deviation, float_trace
from exactinterp.verify.margins import hardmax_margins

DATA = Path(__file__).resolve().parent / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
ROOT = Path(__file__).resolve().parents[1]

#: Reproducible CI profile: fixed seed, no example database, no deadline (exact arithmetic varies).
EXAMPLES = int(os.environ.get("EXACTINTERP_EXAMPLES", "100"))
CI = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def interpolates(T: Transformer, ds: Dataset) -> bool:
    """Independent oracle: the exact forward equals the targets token by token (not via verify)."""
    return all(T(X).tolist() == ds.targets(j).tolist() for j, X in enumerate(ds.inputs))


def _check_hardmax(data: dict) -> None:
    ds = Dataset.from_dict(data)
    T = construct(ds, "hardmax")
    rep = verify(T, ds)
    assert rep.ok, (data, rep.summary())
    assert interpolates(T, ds), data
    assert T.num_blocks <= hardmax_block_bound(ds.sum_m), (T.num_blocks, ds.sum_m)


# ----------------------------------------------------------------------------- valid families


@pytest.mark.parametrize("family", FAMILIES)
@CI
@given(data=st.data())
def test_every_valid_dataset_is_interpolated_exactly(family, data):
    dsd = data.draw(valid_datasets(family=family))
    event(f"d={len(dsd['inputs'][0][0])}")
    _check_hardmax(dsd)


@CI
@given(valid_datasets(family="wide_scales"))
def test_wide_scales_are_served_or_refused_cleanly(dsd):
    """1e-9 and 1e9 in one dataset: exact interpolation, or a clear 'not supported' (never a wrong model)."""
    ds = Dataset.from_dict(dsd)
    try:
        T = construct(ds, "hardmax")
    except ConstructionError as exc:
        assert "not supported by this construction" in str(exc)
        event("refused: not supported by this construction")
        return
    event("served")
    assert verify(T, ds).ok and interpolates(T, ds)


@settings(CI, max_examples=max(10, EXAMPLES // 2))
@given(valid_datasets(max_d=4, max_n=4, max_N=3))
def test_every_valid_dataset_is_certified_with_softmax(dsd):
    ds = Dataset.from_dict(dsd)
    T = construct(ds, "softmax")
    assert not T.is_hardmax  # really softmax layers (tau > 0), certified by ball arithmetic
    rep = verify(T, ds)
    assert rep.ok and rep.certified and rep.softmax, (dsd, rep.summary())


@CI
@given(valid_datasets(max_d=3, max_n=4, max_N=3), st.integers(0, 10**6))
def test_verify_agrees_with_the_oracle_on_perturbed_models(dsd, seed):
    """Change one nonzero parameter of a constructed model: verify agrees with the independent oracle."""
    ds = Dataset.from_dict(dsd)
    T = construct(ds, "hardmax")
    d = json.loads(T.to_json())
    slots = [
        (k, layer, name, i, j)
        for k, blk in enumerate(d["blocks"])
        for layer, name in (("ff", "W"), ("ff", "b"), ("sa", "V"))
        for i, row in enumerate(blk[layer][name] if name != "b" else [blk[layer][name]])
        for j, v in enumerate(row)
        if v != "0"
    ]
    if not slots:
        return
    k, layer, name, i, j = slots[seed % len(slots)]
    cell = d["blocks"][k][layer][name]
    if name == "b":
        cell[j] = str(Fraction(cell[j]) * Fraction(3, 2) + Fraction(1, 7))
    else:
        cell[i][j] = str(Fraction(cell[i][j]) * Fraction(3, 2) + Fraction(1, 7))
    T2 = Transformer.from_dict(d)
    assert verify(T2, ds).ok == interpolates(T2, ds)


# ----------------------------------------------------------------------------- invalid datasets


@settings(CI, max_examples=4 * EXAMPLES)
@given(invalid_datasets())
def test_every_invalid_dataset_raises_dataset_error(case):
    data, match = case
    with pytest.raises(DatasetError) as exc:
        Dataset.from_dict(data)
    assert match in str(exc.value), (match, str(exc.value))


# ----------------------------------------------------------------------------- regression corpus

VALID = [e for e in MANIFEST if e.get("valid")]
INVALID = [e for e in MANIFEST if "error" in e]


def test_corpus_manifest_lists_every_file():
    assert {e["file"] for e in MANIFEST} == {p.name for p in DATA.glob("*.json")} - {"manifest.json"}
    assert VALID and INVALID


@pytest.mark.parametrize("entry", VALID, ids=lambda e: e["file"])
def test_corpus_valid_through_api_and_cli(entry, tmp_path, capsys):
    path = str(DATA / entry["file"])
    ds = Dataset.from_json(path)
    T = construct(ds, "hardmax")
    assert verify(T, ds).ok and interpolates(T, ds)
    model = tmp_path / "m.json"
    assert main(["construct", path, "-o", str(model)]) == 0
    assert main(["verify", path, str(model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: exact interpolation")
    # a wrong model (identity) is refused with exit 1
    wrong = tmp_path / "w.json"
    Transformer.identity(ds.d).to_json(wrong)
    expected = 0 if all(ds.targets(j).tolist() == X.tolist() for j, X in enumerate(ds.inputs)) else 1
    assert main(["verify", path, str(wrong)]) == expected


@pytest.mark.parametrize("entry", INVALID, ids=lambda e: e["file"])
def test_corpus_invalid_through_api_and_cli(entry, tmp_path, capsys):
    path = str(DATA / entry["file"])
    with pytest.raises(DatasetError, match=None) as exc:
        Dataset.from_json(path)
    assert entry["error"] in str(exc.value)
    model = tmp_path / "m.json"
    assert main(["construct", path, "-o", str(model)]) == 2
    err = capsys.readouterr().err
    assert entry["error"] in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not model.exists() and not list(tmp_path.iterdir())  # no partial (or temporary) file


@pytest.mark.parametrize(
    "name, code", [("lattice_mass_ties.json", 0), ("bad_nan.json", 2), ("bad_permutation_conflict.json", 2)]
)
def test_corpus_through_python_m_exactinterp(name, code, tmp_path):
    """The real command line in a subprocess: exit codes, one line on stderr, no traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    model = tmp_path / "m.json"
    cmd = [sys.executable, "-m", "exactinterp"]
    kw = {"capture_output": True, "text": True, "env": env}
    res = subprocess.run([*cmd, "construct", str(DATA / name), "-o", str(model)], check=False, **kw)
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    if code == 0:
        res = subprocess.run([*cmd, "verify", "--margins", str(DATA / name), str(model)], check=False, **kw)
        assert res.returncode == 0 and res.stdout.startswith("OK") and "hardmax margins" in res.stdout, res.stdout
    else:
        assert not model.exists()


# ----------------------------------------------------------------------------- margins


def _q(rows):
    return q_matrix([[str(v) if isinstance(v, Fraction) else v for v in r] for r in rows])


def _one_layer(Qm, Km, d=2):
    return Transformer(d, [Block(FeedForward.identity(d), SelfAttention(Q=_q(Qm), K=_q(Km), V=eye(d), rho=0))])


def test_margin_rank_one_by_hand():
    # scores (x_i1)(x_j1); keys 0, 1, 3 (and -1): query 1 -> 1*(3-1) = 2, query 3 -> 6, query 0 ties all
    T = _one_layer([[1, 0]], [[1, 0]])
    assert hardmax_margins(T, [_q([[0, 5], [1, 0], [3, 2]])]) == [QQ(2)]
    # a negative query looks at the bottom: -1 * (keys -1, 0, ...) -> 1 * (0 - (-1)) = 1
    assert hardmax_margins(T, [_q([[0, 5], [1, 0], [3, 2], [-1, 1]])]) == [QQ(1)]
    # every query zero: nothing to decide
    assert hardmax_margins(T, [_q([[0, 5], [0, 1]])]) == [None]
    # the minimum over sequences: keys {1, 3} give 2 and 6, keys {1, 3/2} give 1/2 and 3/4
    assert hardmax_margins(T, [_q([[1, 0], [3, 2]]), _q([[1, 0], ["3/2", 0]])]) == [QQ(1, 2)]


def test_margin_full_rank_by_hand():
    # Q = K = I, tokens (1,0), (0,2), (1,1): rows [1,0,1] -> 1, [0,4,2] -> 2, [1,2,2] -> 1
    T = _one_layer([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    assert hardmax_margins(T, [_q([[1, 0], [0, 2], [1, 1]])]) == [QQ(1)]
    assert hardmax_margins(T, [_q([[1, 0], [0, 2]])]) == [QQ(1)]  # rows [1, 0] -> 1, [0, 4] -> 4
    assert hardmax_margins(T, [_q([["1/3", 0], [0, "1/2"], ["1/3", "1/2"]])]) == [QQ(1, 9)]
    # skip and all-tie layers decide nothing
    tie = Transformer(2, [Block(FeedForward.identity(2), SelfAttention(Q=_q([[0, 0]]), K=_q([[0, 0]]), V=eye(2)))])
    assert hardmax_margins(tie, [_q([[1, 0], [0, 2]])]) == [None]
    assert hardmax_margins(Transformer.identity(2), [_q([[1, 0]])]) == [None]


def _brute_margin(sa, X):
    g = None
    for x in X:
        s = sorted({sum((a * b for a, b in zip(sa.Q.dot(x), sa.K.dot(y), strict=True)), QQ(0)) for y in X})
        if len(s) > 1:
            g = s[-1] - s[-2] if g is None else min(g, s[-1] - s[-2])
    return g


@settings(CI, max_examples=2 * EXAMPLES)
@given(
    st.integers(2, 4),
    st.integers(1, 3),
    st.lists(st.integers(-3, 3), min_size=24, max_size=24),
    st.lists(st.integers(-2, 2), min_size=64, max_size=64),
    st.integers(1, 12),
)
def test_margin_equals_brute_force(d, h, qk, xs, n):
    Qm = [qk[r * d : (r + 1) * d] for r in range(h)]
    Km = [qk[12 + r * d : 12 + (r + 1) * d] for r in range(h)]
    X = _q([[Fraction(v, 2) for v in xs[i * d : (i + 1) * d]] for i in range(n)])
    T = _one_layer(Qm, Km, d)
    sa = T.blocks[0].sa
    expect = None if sa.kind in ("skip", "mean") else _brute_margin(sa, X)
    assert hardmax_margins(T, [X]) == [expect]


def test_margin_of_constructed_models_and_float_trace():
    ds = Dataset.from_json(str(DATA / "lattice_mass_ties.json"))
    T = construct(ds, "hardmax")
    rep = verify(T, ds, margins=True)
    assert len(rep.margins) == T.num_blocks
    decided = [m for m in rep.margins if m is not None]
    assert decided and all(m > 0 for m in decided)
    trace = float_trace(T, ds.inputs)
    assert [t.margin for t in trace] == rep.margins
    table = trace_table(trace).splitlines()
    assert len(table) == T.num_blocks + 1 and "escaped" in table[0]
    # the trace's last drift is the float64 forward's deviation from the exact output (= the targets)
    assert trace[-1].deviation == float_deviation(T, ds, relative=False)
    # float32 forward runs and is float32
    out32 = T.forward(ds.inputs[0], exact=False, dtype=np.float32)
    assert out32.dtype == np.float32 and out32.shape == (len(ds.inputs[0]), ds.d)


# ----------------------------------------------------------------------------- engine helpers of the chapter


def test_float_deviation_of_the_identity_and_of_a_constructed_model():
    ds = depth(3, seed=0)
    T = construct(ds, "hardmax")
    assert float_deviation(Transformer.identity(ds.d), ds, relative=False) > 0
    assert float_deviation(T, ds) < 1e-6  # a small unit-scale dataset is fine in float64


def test_block_gain_by_hand():
    ff = FeedForward(U=_q([[1, 0]]), b=[0], W=_q([[2], [-3]]), eta="1/2")
    sa = SelfAttention(Q=_q([[0, 0]]), K=_q([[0, 0]]), V=eye(2, 2), rho=-1)
    # (|eta| + max row sum of |W||U| = 1/2 + 3) * (|rho| + ||V|| = 1 + 2)
    assert block_gain(Block(ff, sa)) == pytest.approx(3.5 * 3)
    assert block_gain(Block.identity(2)) == 1.0
