"""CLI hardening: hostile files and paths give exit 2 and one clear line, never a traceback or a partial file."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from exactinterp.cli import main

DATA = Path(__file__).resolve().parent / "data"
GOOD = str(DATA / "lattice_mass_ties.json")


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("exactinterp: error: ") and "Traceback" not in err


@pytest.fixture(scope="module")
def model_dict(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "m.json"
    assert main(["construct", GOOD, "-o", str(path)]) == 0
    return json.loads(path.read_text())


def _mutate(m, path, value):
    m = copy.deepcopy(m)
    node = m
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return m


BAD_FIELDS = [
    (("blocks", 0, "ff", "eta"), [1], "not a number"),
    (("blocks", 0, "ff", "U"), "abc", "not a number"),
    (("blocks", 0, "ff", "b"), 5, "block 0"),
    (("blocks", 0, "sa", "Q"), 5, "block 0"),
    (("blocks", 0, "sa", "V"), [[1, 0], [0]], "ragged"),
    (("blocks", 0, "sa", "V"), [[[1], 0], [0, 1]], "not a number"),
    (("blocks", 0, "sa", "rho"), "nan", "not a number"),
    (("blocks", 0, "sa", "tau"), "-1/2", "tau"),
    (("blocks", 0, "sa", "K"), [[1, 0], [0, 1]], "differ in shape"),
    (("blocks", 0, "ff", "W"), [[1]], "shape"),
    (("blocks", 0, "ff", "b"), KeyError, "'b'"),
    (("blocks", 0), "x", "'ff' and 'sa'"),
    (("blocks",), {}, "must be a list"),
    (("d",), True, "positive integer"),
    (("d",), 3, "block 0"),
    (("format",), KeyError, "not a model file"),
]


IDS = [f"{'.'.join(map(str, p))}={v!r}" for p, v, _ in BAD_FIELDS]


@pytest.mark.parametrize("path, value, match", BAD_FIELDS, ids=IDS)
def test_malformed_model_fields(model_dict, tmp_path, capsys, path, value, match):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_mutate(model_dict, path, value)))
    code, _, err = run(["verify", GOOD, str(bad)], capsys)
    assert code == 2 and match in err and one_line(err), err
    code, _, err = run(["run", str(bad), str(DATA / "single_token.json")], capsys)
    assert code == 2 and one_line(err), err


def test_model_dimension_differs_from_data(tmp_path, capsys):
    m = tmp_path / "m8.json"
    assert main(["construct", str(DATA / "d8.json"), "-o", str(m)]) == 0
    capsys.readouterr()
    code, _, err = run(["verify", GOOD, str(m)], capsys)
    assert code == 2 and "d = 8" in err and "d = 2" in err and one_line(err), err


@pytest.mark.parametrize(
    "text, match",
    [
        ("\ufeff" + json.dumps({"inputs": [[[0, 0]]], "outputs": [[[1, 1]]]}), "not valid JSON"),  # UTF-8 BOM
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, 1]]]} trailing', "not valid JSON"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, 1]]], }', "not valid JSON"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, 9' + "9" * 5000 + "]]]}", "unreadable number"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, "9' + "9" * 30000 + '"]]]}', "too long"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, "1e-5000"]]]}', "too large"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, ' + "[" * 3000 + "]" * 3000 + "]]]}", "nested too deeply"),
        ('{"inputs": [[[0, {"a": 1}]]], "outputs": [[[1, 1]]]}', "not a number"),
        ('{"inputs": [[[0, 0]]], "outputs": [[[1, 1]]], "inputs": 3}', "must be lists"),  # duplicate key: last wins
    ],
)
def test_hostile_dataset_text(tmp_path, capsys, text, match):
    p = tmp_path / "d.json"
    p.write_text(text, encoding="utf-8")
    out = tmp_path / "m.json"
    code, _, err = run(["construct", str(p), "-o", str(out)], capsys)
    assert code == 2 and match in err and one_line(err), err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["d.json"]  # no partial or temporary file


def test_binary_file(tmp_path, capsys):
    p = tmp_path / "d.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(["construct", str(p)], capsys)
    assert code == 2 and "UTF-8" in err and one_line(err), err


def test_unwritable_output_paths(tmp_path, capsys):
    # a missing directory, and a directory in place of the output file: exit 2, nothing left behind
    for target in (tmp_path / "no" / "such" / "m.json", tmp_path):
        code, _, err = run(["construct", GOOD, "-o", str(target)], capsys)
        assert code == 2 and "cannot write" in err and str(target) in err and one_line(err), err
    assert list(tmp_path.iterdir()) == []


def test_output_file_is_replaced_atomically(tmp_path, capsys):
    out = tmp_path / "m.json"
    out.write_text("old")
    assert run(["construct", GOOD, "-o", str(out)], capsys)[0] == 0
    assert json.loads(out.read_text())["format"] == "exactinterp.transformer"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # usual permissions, not mkstemp's 0600
    # a failing construct leaves the previous file untouched
    code, _, _ = run(["construct", str(DATA / "bad_nan.json"), "-o", str(out)], capsys)
    assert code == 2 and json.loads(out.read_text())["format"] == "exactinterp.transformer"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.json"]


def test_unreadable_input_paths(tmp_path, capsys):
    code, _, err = run(["construct", str(tmp_path)], capsys)  # a directory
    assert code == 2 and "directory" in err and one_line(err)
    code, _, err = run(["verify", GOOD, str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "not found" in err and one_line(err)
    code, _, err = run(["construct", str(tmp_path / "f.json" / "x.json")], capsys)  # a file used as directory
    assert code == 2 and one_line(err), err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path, capsys):
    p = tmp_path / "d.json"
    p.write_text(Path(GOOD).read_text())
    p.chmod(0)
    code, _, err = run(["construct", str(p)], capsys)
    assert code == 2 and "not readable" in err and one_line(err)


def test_verify_margins_text_and_json(tmp_path, capsys):
    m = tmp_path / "m.json"
    assert main(["construct", GOOD, "-o", str(m)]) == 0
    capsys.readouterr()
    code, out, _ = run(["verify", "--margins", GOOD, str(m)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("OK") and lines[1].startswith("hardmax margins") and "block" in lines[1]
    code, out, _ = run(["verify", "--margins", "--json", GOOD, str(m)], capsys)
    rep = json.loads(out)
    assert code == 0 and rep["ok"] and any(v is not None for v in rep["margins"])
