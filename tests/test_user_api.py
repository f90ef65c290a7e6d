"""The API and the CLI as a data user meets them: arrays, reprs, equality, limits, messages, warnings, off-data runs."""

import json
from fractions import Fraction

import numpy as np
import pytest
from test_cli import GOOD, run_main, write

from exactinterp import Dataset, DatasetError, Transformer, construct, verify
from exactinterp.book.real import iris_sepals, load
from exactinterp.cli import main
from exactinterp.core.numbers import QQ

# ----------------------------------------------------------------------------- Dataset from arrays


def test_dataset_from_a_3d_integer_array():
    X = np.arange(24).reshape(3, 4, 2)
    Y = X[:, :1, :] * 2
    ds = Dataset.from_arrays(X, Y)
    assert (ds.N, ds.d, ds.n, ds.m) == (3, 2, [4, 4, 4], [1, 1, 1])
    assert ds.inputs[1][2, 1] == QQ(13) and ds.outputs[2][0, 0] == QQ(32)
    assert Dataset(X, Y) == ds  # the constructor takes arrays too


def test_float_arrays_need_an_explicit_conversion_named_in_the_error():
    X = np.array([[[0.1, 2.0], [0.25, 1.0]]])
    Y = np.array([[[1.0, 0.0]]])
    with pytest.raises(DatasetError, match=r'floats="decimal".*floats="exact"'):
        Dataset.from_arrays(X, Y)
    dec = Dataset.from_arrays(X, Y, floats="decimal")
    exact = Dataset.from_arrays(X, Y, floats="exact")
    assert dec.inputs[0][0, 0] == QQ(1, 10)
    assert exact.inputs[0][0, 0] == QQ(Fraction(0.1).numerator, Fraction(0.1).denominator) != QQ(1, 10)
    assert dec.inputs[0][1, 0] == exact.inputs[0][1, 0] == QQ(1, 4)  # dyadic: both readings agree
    assert Dataset(X, Y, allow_float=True) == exact
    with pytest.raises(ValueError, match="floats must be one of"):
        Dataset.from_arrays(X, Y, floats="round")


def test_arrays_of_the_wrong_shape_and_ragged_lists_of_arrays():
    with pytest.raises(DatasetError, match=r"shape \(4, 2\).*3-D array \(N, n, d\)"):
        Dataset.from_arrays(np.zeros((4, 2), dtype=int), np.zeros((1, 1, 2), dtype=int))
    ds = Dataset.from_arrays([np.array([[0, 1], [2, 3], [4, 5]]), np.array([[7, 7]])], [np.array([[1, 1]])] * 2)
    assert ds.n == [3, 1]


# ----------------------------------------------------------------------------- reprs, equality, JSON


def test_short_reprs():
    ds = load("digits", 300)
    assert repr(ds) == "Dataset(N=300, d=9, n=8, m=1, sum_m=300)"
    mixed = Dataset.from_dict(GOOD)
    assert repr(mixed) == "Dataset(N=2, d=2, n=2..3, m=1..2, sum_m=3)"
    T = construct(mixed)
    counts = f"blocks={T.num_blocks}, hardmax, FF width <= 4, nonzero parameters={T.num_parameters}"
    assert repr(T) == f"Transformer(d=2, {counts})"
    assert "softmax" in repr(construct(mixed, attention="softmax"))


def test_equality_holds_after_a_json_round_trip(tmp_path):
    ds = Dataset.from_dict(GOOD)
    assert Dataset.from_json(ds.to_json()) == ds
    path = tmp_path / "d.json"
    ds.to_json(path)
    assert Dataset.from_json(path) == ds and Dataset.from_json(str(path)) == ds
    assert ds != Dataset([[[0, 0]]], [[[1, 1]]]) and ds != "a dataset"
    T = construct(ds)
    assert Transformer.from_json(T.to_json()) == T
    assert T != construct(ds, max_width=None) and T != construct(ds, attention="softmax")
    with pytest.raises(TypeError):
        hash(T)


def test_dataset_from_json_of_a_dict():
    ds = Dataset.from_json(GOOD)
    assert ds == Dataset.from_dict(GOOD) and ds.N == 2
    with pytest.raises(DatasetError, match="missing 'outputs'"):
        Dataset.from_json({"inputs": [[[0, 0]]]})


def test_misspelled_keywords_of_construct_raise_type_error():
    ds = Dataset.from_dict(GOOD)
    for kwargs in ({"maxwidth": None}, {"atention": "softmax"}, {"attention": "softmax", "dleta": 1}):
        with pytest.raises(TypeError, match="unexpected keyword"):
            construct(ds, **kwargs)


# ----------------------------------------------------------------------------- limits and messages


@pytest.mark.parametrize("value", ["1e301", "1.7e308", "-1e308", "1e309", "1e400"])
def test_numbers_beyond_1e300_are_invalid_input(tmp_path, capsys, value):
    data = {"inputs": [[[value, "1/3"], [2, 7]], [[1, 2]]], "outputs": [[[1, 2]], [[3, 0]]]}
    with pytest.raises(DatasetError, match=r"too large: \|x\| <= 1e300"):
        Dataset.from_dict(data)
    code, _, err = run_main(["construct", write(tmp_path, "d.json", data)], capsys)
    assert code == 2 and "input sequence 0, token 0, coordinate 0" in err and "too large" in err
    d = write(tmp_path, "ok.json", GOOD)
    m = str(tmp_path / "m.json")
    assert run_main(["construct", d, "-o", m], capsys)[0] == 0
    code, _, err = run_main(["run", m, write(tmp_path, "in.json", [[0, value]])], capsys)
    assert code == 2 and "exceeds 1e300" in err


def test_1e300_itself_still_works(capsys, tmp_path):
    data = {"inputs": [[["1e300", "1/3"], [2, 7]], [[1, 2]]], "outputs": [[[1, 2]], [["-1e300", 0]]]}
    d, m = write(tmp_path, "d.json", data), str(tmp_path / "m.json")
    assert run_main(["construct", d, "-o", m], capsys)[0] == 0
    assert run_main(["verify", d, m], capsys)[0] == 0


@pytest.mark.parametrize(
    "text, where, what",
    [
        ('{"inputs": [[[0, NaN]]], "outputs": [[[1, 1]]]}', "input sequence 0, token 0, coordinate 1", "NaN"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, -Infinity]]]}', "output sequence 0, token 0, coordinate 1", "Inf"),
        ('{"inputs": [[[0, null]]], "outputs": [[[1, 1]]]}', "input sequence 0, token 0, coordinate 1", "null is"),
        ('{"inputs": [[[0, 0], [1, true]]], "outputs": [[[1, 1]]]}', "input sequence 0, token 1, coordinate 1", "true"),
        ('{"inputs": [[0, 0]], "outputs": [[[1, 1]]]}', "input sequence 0, token 0", "level of brackets"),
        ('{"inputs": [[[0, 0]]], "outputs": [[1, 1]]}', "output sequence 0, token 0", "level of brackets"),
    ],
)
def test_messages_say_where(tmp_path, capsys, text, where, what):
    code, _, err = run_main(["construct", write(tmp_path, "d.json", text)], capsys)
    assert code == 2 and where in err and what in err and len(err.strip().splitlines()) == 1


def test_nan_in_a_model_file_names_the_block(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    T = construct(Dataset.from_dict(GOOD))
    text = T.to_json().replace('"eta":"1"', '"eta":NaN', 1)
    assert "NaN" in text
    code, _, err = run_main(["verify", d, write(tmp_path, "m.json", text)], capsys)
    assert code == 2 and "block 0" in err and "NaN is not a finite number" in err


def test_one_sequence_is_singular(tmp_path, capsys):
    data = {"inputs": [[[0, 0], [1, 2]]], "outputs": [[[5, 5]]]}
    d, m = write(tmp_path, "d.json", data), str(tmp_path / "m.json")
    run_main(["construct", d, "-o", m], capsys)
    code, out, _ = run_main(["verify", d, m], capsys)
    assert code == 0 and out.startswith("OK: exact interpolation of 1 sequence, ")
    with pytest.raises(DatasetError, match="1 input sequence but 2 output sequences"):
        Dataset([[[0, 0]]], [[[1, 1]], [[2, 2]]])


# ----------------------------------------------------------------------------- verify: floats and failures


def _rounding_model(d: int) -> Transformer:
    """x -> 3 (x / 3) and so on: the identity in exact arithmetic, not in float64 (a deviation of ~1e-16)."""
    from exactinterp import Block, FeedForward, SelfAttention

    none = np.empty((0, d), dtype=object)
    etas = [QQ(1, 3), QQ(3)] * 3
    return Transformer(d, [Block(FeedForward(U=none, b=[], W=none.T, eta=e), SelfAttention.identity(d)) for e in etas])


def test_verify_warns_when_the_float64_deviation_exceeds_the_tolerance(tmp_path, capsys):
    toks = [[QQ(k, 7), QQ(1, k)] for k in range(1, 40)]
    ds = Dataset([toks], [toks])
    T = _rounding_model(2)
    rep = verify(T, ds)
    assert rep.ok and 0 < rep.float_deviation and rep.float_ok and rep.float_warning() is None
    strict = verify(T, ds, float_tol=1e-18)
    assert not strict.float_ok and "deviates from the targets" in strict.float_warning()
    d, m = str(tmp_path / "d.json"), str(tmp_path / "m.json")
    ds.to_json(d)
    T.to_json(m)
    code, out, err = run_main(["verify", d, m], capsys)
    assert code == 0 and out.startswith("OK") and "warning" not in err
    code, out, err = run_main(["verify", d, m, "--float-tol", "1e-18"], capsys)
    assert code == 0 and out.startswith("OK") and "exactinterp: warning: the float64 forward" in err
    code, out, _ = run_main(["verify", d, m, "--float-tol", "1e-18", "--json"], capsys)
    rep_json = json.loads(out)
    assert code == 0 and rep_json["float64_ok"] is False and rep_json["float64_tolerance"] == 1e-18
    assert rep_json["float64_scale"] == pytest.approx(39 / 7)
    assert run_main(["verify", d, m, "--float-tol", "0"], capsys)[0] == 2


def test_verify_certifies_the_float64_deviation_on_request(tmp_path, capsys):
    d, m = write(tmp_path, "d.json", GOOD), str(tmp_path / "m.json")
    run_main(["construct", d, "-o", m], capsys)
    code, out, _ = run_main(["verify", d, m, "--certify-floats"], capsys)
    assert code == 0 and "(certified bound " in out
    code, out, _ = run_main(["verify", d, m, "--certify-floats", "--json"], capsys)
    rep = json.loads(out)
    assert rep["float64_max_deviation"] <= rep["float64_certified_bound"] < 1e-10
    code, out, _ = run_main(["verify", d, m, "--json"], capsys)
    assert json.loads(out)["float64_certified_bound"] is None


def test_a_failed_verify_shows_got_and_expected(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    empty = {"format": "exactinterp.transformer", "version": 1, "d": 2, "blocks": []}
    m = write(tmp_path, "m.json", empty)
    code, out, err = run_main(["verify", d, m], capsys)
    assert code == 1 and out.startswith("FAILED: 2 of 2 sequences")
    assert "sequence 0, token 0: got (0, 0), expected (1, 1)" in err
    assert "sequence 1, token 1: got (1, 2), expected (7, 1/2)" in err
    code, out, _ = run_main(["verify", d, m, "--json"], capsys)
    seq1 = json.loads(out)["sequences"][1]
    assert code == 1 and seq1["mismatches"][1] == {"token": 1, "got": "(1, 2)", "expected": "(7, 1/2)"}


# ----------------------------------------------------------------------------- run off the dataset


def test_run_off_the_dataset(tmp_path, capsys):
    d, m = write(tmp_path, "d.json", GOOD), str(tmp_path / "m.json")
    run_main(["construct", d, "--attention", "softmax", "-o", m], capsys)
    # on the dataset: exact
    code, out, err = run_main(["run", m, write(tmp_path, "a.json", [[0, 0], [1, 2]])], capsys)
    assert code == 0 and json.loads(out) == [[2, 2], [7, "1/2"]] and err == ""
    # off the dataset, a narrow enclosure: floats with a note
    narrow = [[2, "5/4"], ["3/2", "7/2"], [2, "-1/2"]]
    code, out, err = run_main(["run", m, write(tmp_path, "b.json", narrow)], capsys)
    assert code == 0 and all(isinstance(v, float) for tok in json.loads(out) for v in tok)
    assert "note:" in err and "not exact" in err
    # off the dataset, a wide enclosure: a clear error, not "[+/- 1e13]"
    code, out, err = run_main(["run", m, write(tmp_path, "c.json", [[0, 8], ["-3/2", 8]])], capsys)
    assert code == 2 and out == "" and "too wide" in err and "--float" in err
    code, out, _ = run_main(["run", m, str(tmp_path / "c.json"), "--float"], capsys)
    assert code == 0 and len(json.loads(out)) == 2


def test_help_says_what_models_do_off_the_dataset(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "off the dataset" in out and "guarantees" in out and "--float-tol" in out


# ----------------------------------------------------------------------------- real duplicates


def test_real_duplicates_with_conflicting_labels_are_refused():
    inputs, outputs = iris_sepals()
    with pytest.raises(DatasetError, match=r"sequences \d+ and \d+ hold the same tokens .* no transformer can tell"):
        Dataset(inputs, outputs)


def test_real_loaders_read_the_bundled_decimals_exactly():
    bc = load("breast_cancer", 5)
    assert (bc.N, bc.d, bc.n, bc.m) == (5, 2, [30] * 5, [1] * 5)
    assert [int(t[0]) for t in bc.inputs[0]] == list(range(30))  # the feature index
    full = load("breast_cancer")
    assert full.inputs[0][29, 1] == QQ(1189, 10**4)  # 0.1189 in the bundled CSV, not its float64
    assert {tuple(Y[0]) for Y in full.outputs} == {(QQ(0), QQ(0)), (QQ(1), QQ(0))}
    dg = load("digits", 7, seed=3)
    assert (dg.N, dg.d, dg.n) == (7, 9, [8] * 7) and [int(t[0]) for t in dg.inputs[0]] == list(range(8))
    assert dg == load("digits", 7, seed=3) and dg != load("digits", 7, seed=4)
    with pytest.raises(ValueError, match="unknown dataset"):
        load("mnist")
