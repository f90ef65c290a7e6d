"""``make bench`` runs: the digits loader, and a smoke run of the rows at small sizes (no timing asserted)."""

from __future__ import annotations

import numpy as np

from exactinterp import verify
from exactinterp.bench import big_child, construct, digits, exact_check, image_rows, main
from exactinterp.core.numbers import QQ


def test_image_rows_tokens_targets_and_conflicting_duplicates():
    images = np.array([[[0, 1], [2, 3]], [[0, 1], [2, 3]], [[5, 5], [0, 0]], [[0, 1], [2, 3]]])
    ds = image_rows(images, np.array([4, 7, 1, 4]))
    assert ds.N == 3  # the second image repeats the first with another label: dropped; the fourth agrees
    assert ds.inputs[0].tolist() == [[QQ(0), QQ(0), QQ(1)], [QQ(1), QQ(2), QQ(3)]]
    assert ds.outputs[1].tolist() == [[QQ(1), QQ(0), QQ(0)]]
    T = construct(ds)
    assert verify(T, ds).ok and exact_check(T, ds)


def test_digits_are_row_sequences():
    ds = digits(20)
    assert ds.N == 20 and ds.d == 9 and set(ds.n) == {8} and set(ds.m) == {1}
    assert [int(X[r, 0]) for X in ds.inputs[:2] for r in range(8)] == list(range(8)) * 2


def test_bench_rows_print_targets_and_floors(capsys):
    assert main(["--quick", "--rows", "1,4"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("[")]
    assert len(rows) == 6 and all("target" in r and "stacked-float floor" in r for r in rows)


def test_big_row_child():
    r = big_child(12, 10)
    assert r["ok"] and r["tokens"] == 120 and r["peak_mb"] > 0 and r["floor_s"] >= 0
