"""CLI: exit codes 0/1/2, one clear line on stderr for bad input, never a traceback."""

import json
import subprocess
import sys

import pytest

from exactinterp.cli import main

GOOD = {"inputs": [[[0, 0], [1, 2], [3, 1]], [[0, 0], [1, 2]]], "outputs": [[[1, 1]], [[2, 2], [7, "0.5"]]]}


def write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(p)


def run_main(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_construct_verify_run(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    m = str(tmp_path / "m.json")
    code, _, err = run_main(["construct", d, "--attention", "hardmax", "-o", m], capsys)
    assert code == 0 and "blocks" in err
    code, out, _ = run_main(["verify", d, m], capsys)
    assert code == 0 and out.startswith("OK: exact interpolation of 2 sequences")
    inp = write(tmp_path, "in.json", [[0, 0], [1, 2]])
    code, out, _ = run_main(["run", m, inp], capsys)
    assert code == 0 and json.loads(out) == [[2, 2], [7, "1/2"]]
    inp = write(tmp_path, "in2.json", {"inputs": [[[0, 0], [1, 2], [3, 1]]]})
    code, out, _ = run_main(["run", m, inp], capsys)
    assert code == 0 and json.loads(out) == {"outputs": [[[1, 1]] * 3]}


@pytest.mark.parametrize("attention", ["hardmax", "softmax"])
def test_verify_jax_reports_an_independent_float64_forward(tmp_path, capsys, attention):
    d, m = write(tmp_path, "d.json", GOOD), str(tmp_path / "m.json")
    assert run_main(["construct", d, "--attention", attention, "-o", m], capsys)[0] == 0
    code, out, _ = run_main(["verify", d, m, "--jax"], capsys)
    line = [s for s in out.splitlines() if s.startswith("JAX float64 forward")]
    assert code == 0 and len(line) == 1, out
    code, out, _ = run_main(["verify", d, m, "--jax", "--json"], capsys)
    dev = json.loads(out)["jax_float_deviation"]
    assert code == 0 and 0 <= dev <= 1e-12, dev
    # an empty model is far from the targets, and the JAX forward says so
    empty = write(tmp_path, "e.json", {"format": "exactinterp.transformer", "version": 1, "d": 2, "blocks": []})
    code, out, _ = run_main(["verify", d, empty, "--jax", "--json"], capsys)
    assert code == 1 and json.loads(out)["jax_float_deviation"] >= 1


def test_verify_fails_with_exit_1(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    m = write(tmp_path, "m.json", {"format": "exactinterp.transformer", "version": 1, "d": 2, "blocks": []})
    code, out, _ = run_main(["verify", d, m], capsys)
    assert code == 1 and out.startswith("FAILED")


BAD_DATA = [
    ("not json", "not valid JSON"),
    ('{"inputs": [[[0, 0]]], "outputs": [[[1, 1]]]', "not valid JSON"),  # truncated
    ('{"inputs": [[[0, NaN]]], "outputs": [[[1, 1]]]}', "NaN or Infinity"),
    ('{"inputs": [[[0, Infinity]]], "outputs": [[[1, 1]]]}', "NaN or Infinity"),
    ('{"inputs": [[[0]]], "outputs": [[[1]]]}', "d = 1"),
    ('{"inputs": [[[0, 0], [1]]], "outputs": [[[1, 1]]]}', "ragged"),
    ('{"inputs": [[[0, "a"]]], "outputs": [[[1, 1]]]}', "not a number"),
    ('{"inputs": [[[0, true]]], "outputs": [[[1, 1]]]}', "boolean"),
    ('{"inputs": [[[0, 0]]], "outputs": [[]]}', "empty"),
    ('{"inputs": [[[0, 0]]], "outputs": [[[1, 1], [2, 2]]]}', "m = 2"),
    ('{"inputs": [[[0, 0], [0, 0]]], "outputs": [[[1, 1], [2, 2]]]}', "equal"),
    (
        '{"inputs": [[[0, 0], [1, 1]], [[1, 1], [0, 0]]], "outputs": [[[5, 5], [6, 6]], [[5, 5], [7, 7]]]}',
        "same tokens",
    ),
    ('{"inputs": [[[0, 0]]]}', "missing 'outputs'"),
    ("[1, 2]", "JSON object"),
    ('{"inputs": 5, "outputs": 5}', "must be lists"),
    ('{"inputs": [[[0, 1e999999999]]], "outputs": [[[1, 1]]]}', "too large"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
]


@pytest.mark.parametrize("text, match", BAD_DATA, ids=[m for _, m in BAD_DATA])
def test_bad_dataset_exit_2_one_line(tmp_path, capsys, text, match):
    d = write(tmp_path, "bad.json", text)
    out_path = tmp_path / "m.json"
    code, out, err = run_main(["construct", d, "-o", str(out_path)], capsys)
    assert code == 2
    assert match in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out_path.exists()  # no partial output


def test_missing_file_and_directory(tmp_path, capsys):
    code, _, err = run_main(["construct", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "not found" in err
    code, _, err = run_main(["construct", str(tmp_path)], capsys)
    assert code == 2 and "directory" in err


BAD_MODELS = [
    ({"format": "other"}, "not a model file"),
    ({"format": "exactinterp.transformer", "version": 2, "d": 2, "blocks": []}, "version"),
    ({"format": "exactinterp.transformer", "version": 1, "d": "2", "blocks": []}, "positive integer"),
    ({"format": "exactinterp.transformer", "version": 1, "d": 2, "blocks": [{"ff": {}}]}, "block 0"),
    (
        {
            "format": "exactinterp.transformer",
            "version": 1,
            "d": 2,
            "blocks": [
                {
                    "ff": {"eta": "1", "U": [[1, 0, 0]], "b": [0], "W": [[1], [0]]},
                    "sa": {"rho": "1", "tau": "0", "Q": [[0, 0]], "K": [[0, 0]], "V": [[0, 0], [0, 0]]},
                }
            ],
        },
        "block 0",
    ),  # fmt: skip
    (
        {
            "format": "exactinterp.transformer",
            "version": 1,
            "d": 2,
            "blocks": [
                {
                    "ff": {"eta": "1", "U": [], "b": [], "W": [[], []]},
                    "sa": {"rho": "1", "tau": "-1", "Q": [[0, 0]], "K": [[0, 0]], "V": [[0, 0], [0, 0]]},
                }
            ],
        },
        "tau",
    ),  # fmt: skip
    ({"format": "exactinterp.transformer", "version": 1, "d": 3, "blocks": []}, "d = 3"),
]


@pytest.mark.parametrize("model, match", BAD_MODELS, ids=[m for _, m in BAD_MODELS])
def test_bad_model_exit_2(tmp_path, capsys, model, match):
    d = write(tmp_path, "d.json", GOOD)
    m = write(tmp_path, "m.json", model)
    code, _, err = run_main(["verify", d, m], capsys)
    assert code == 2 and match in err and err.count("\n") == 1, err


def test_run_rejects_wrong_dimension_and_shapes(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    m = str(tmp_path / "m.json")
    assert main(["construct", d, "-o", m]) == 0
    capsys.readouterr()
    for bad, match in (
        ([[1, 2, 3]], "dimension 3"),
        ({"x": 1}, "'inputs'"),
        ([[]], "dimension 0"),
        ([1, 2], "list of tokens"),
    ):
        inp = write(tmp_path, "in.json", bad)
        code, _, err = run_main(["run", m, inp], capsys)
        assert code == 2 and match in err and err.count("\n") == 1, (bad, err)


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["construct"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["construct", "x.json", "--attention", "linear"])
    assert exc.value.code == 2


def test_help_documents_formats():
    res = subprocess.run([sys.executable, "-m", "exactinterp", "--help"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and '"inputs"' in res.stdout and "exit codes" in res.stdout


def test_softmax_through_the_cli_is_certified(tmp_path, capsys):
    d = write(tmp_path, "d.json", GOOD)
    code, _, _ = run_main(["construct", d, "--attention", "softmax", "-o", str(tmp_path / "m.json")], capsys)
    assert code == 0
    code, out, _ = run_main(["verify", d, str(tmp_path / "m.json")], capsys)
    assert code == 0 and "softmax (certified by ball arithmetic)" in out
