"""Every invalid dataset (ARCHITECTURE.md, "Semantics") raises DatasetError naming the sequence and token at fault."""

import pytest

from exactinterp import Dataset, DatasetError
from exactinterp.core.numbers import QQ

OK_IN = [[[0, 0], [1, 2]], [[0, 0], [3, 1]]]
OK_OUT = [[[1, 1]], [[2, 2]]]


def test_valid_dataset_and_semantics():
    ds = Dataset([[[0, 0], [1, 2], [0, 0]]], [[[5, 5], [6, "1/2"]]])
    assert ds.N == 1 and ds.d == 2 and ds.n == [3] and ds.m == [2] and ds.sum_m == 2
    assert ds.targets(0).tolist() == [[QQ(5), QQ(5)], [QQ(6), QQ(1, 2)], [QQ(5), QQ(5)]]
    assert ds.value_map(0)[(QQ(0), QQ(0))] == (QQ(5), QQ(5))


@pytest.mark.parametrize(
    "inputs, outputs, match",
    [
        ([[[0], [1]]], [[[1]]], "d = 1"),
        ([[[0, "nan"]]], [[[1, 1]]], "sequence 0, token 0, coordinate 1"),
        ([[[0, "x"]]], [[[1, 1]]], "not a number"),
        ([[[0, 0.5]]], [[[1, 1]]], "float"),
        ([[[0, 0], [1]]], [[[1, 1]]], "token 1: has 1 coordinates"),
        ([[[0, 0]]], [[]], "empty"),
        ([[[0, 0]]], [[[1, 1], [2, 2]]], "m = 2 outputs for n = 1"),
        ([[[0, 0], [1, 1], [1, 1]]], [[[1, 1], [2, 2]]], "tokens 1 and 2 are equal"),
        ([[[0, 0], [0, 0]]], [[[1, 1], [2, 2]]], "tokens 0 and 1 are equal"),
        ([[[0, 0], [1, 1]], [[1, 1], [0, 0]]], [[[5, 5], [6, 6]], [[5, 5], [7, 7]]], "sequences 0 and 1"),
        ([[[0, 0], [1, 1]], [[1, 1], [0, 0], [1, 1], [0, 0]]], [[[5, 5]], [[6, 6]]], "same proportions"),
        ([], [], "N = 0"),
        ([[[0, 0]]], [], "1 input sequence but 0 output sequences"),
        ("abc", [], "must be lists"),
        ([[[0, 0]]], [[[1, 1, 1]]], "expected d = 2"),
    ],
)
def test_invalid_datasets(inputs, outputs, match):
    with pytest.raises(DatasetError, match=match):
        Dataset(inputs, outputs)


def test_served_cases_are_not_refused():
    # same token set, different proportions: must be served
    Dataset([[[0, 0], [1, 1]], [[0, 0], [1, 1], [1, 1]]], [[[5, 5]], [[6, 6]]])
    # permutation with consistent outputs
    Dataset([[[0, 0], [1, 1]], [[1, 1], [0, 0]]], [[[5, 5], [6, 6]], [[6, 6], [5, 5]]])
    # a leader repeated with the same target
    Dataset([[[0, 0], [1, 1], [1, 1]]], [[[5, 5], [6, 6], [6, 6]]])


def test_json_round_trip(tmp_path):
    ds = Dataset([[[0, "0.1"], [1, "2/3"]]], [[["1e-3", -1]]])
    p = tmp_path / "d.json"
    ds.to_json(p)
    ds2 = Dataset.from_json(p)
    assert ds2.to_dict() == ds.to_dict()
    assert ds2.inputs[0][0, 1] == QQ(1, 10)
