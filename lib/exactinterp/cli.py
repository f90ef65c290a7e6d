"""Command line: ``python -m exactinterp construct|verify|run`` (ARCHITECTURE.md, "Public API").

Exit codes: 0 success, 1 verification failed, 2 invalid input (one line on stderr, never a
traceback), 3 internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

import numpy as np

from .construct import ATTENTIONS, construct
from .core.dataset import MAX_MAGNITUDE, Dataset
from .core.io import atomic_write_text, load_json_exact
from .core.numbers import Q, q_matrix, q_to_str
from .core.transformer import Transformer
from .errors import ConstructionError, InputError, ModelError, NumberError
from .verify import verify
from .verify.floats import FLOAT_TOL, data_scale

FORMATS = """\
file formats (numbers: JSON integers, decimal literals read exactly as written, or "p/q" strings):
  dataset  {"inputs": [X1, ..., XN], "outputs": [Y1, ..., YN]}
           Xj: list of n_j tokens, Yj: list of 1 <= m_j <= n_j tokens, token: list of d >= 2 numbers.
           Exact interpolation: T(Xj)_k = yj_k for k <= m_j and every other token ends at yj_1.
  model    {"format": "exactinterp.transformer", "version": 1, "d": d,
            "blocks": [{"ff": {"eta", "U" (w x d), "b" (w), "W" (d x w)},
                        "sa": {"rho", "tau" ("0" = hardmax), "Q" (h x d), "K" (h x d), "V" (d x d)}}]}
           block = SA(FF(x)); FF(x) = eta x + W relu(U x + b); SA(X)_i = rho x_i + V sum_j a_ij x_j.
  input    (run) one sequence [[...], ...], or {"inputs": [X1, ...]} for several.

off the dataset: a model is a function of any input sequence, but the construction guarantees
  its outputs only on the sequences of its dataset. Elsewhere a hardmax model still returns exact
  rationals (of a piecewise-affine map that means nothing there), and a softmax model's certified
  enclosures can be wide: run prints an output that is not an exact rational as a float (the
  midpoint of its enclosure) when the enclosure is narrow, with a note, and refuses (exit 2)
  when it is too wide; --float gives the float64 forward instead.

float64: verify also runs the float64 forward of the same weights and warns when it deviates from
  the targets by more than --float-tol times the data's scale (the largest |target|); the exit code
  depends on the exact check only. --certify-floats adds a certified bound of that deviation.

exit codes: 0 success, 1 verification failed, 2 invalid input (one line on stderr), 3 internal error.
"""

#: Largest relative radius of a certified enclosure that ``run`` prints as a float (its midpoint).
RUN_BALL_TOL = 1e-6


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"exactinterp: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m exactinterp",
        description="Exact transformer constructions for 'Exact Sequence Interpolation with Transformers'.",
        epilog=FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    documented = {"epilog": FORMATS, "formatter_class": argparse.RawDescriptionHelpFormatter}
    c = sub.add_parser("construct", help="build a transformer that exactly interpolates a dataset", **documented)
    c.add_argument("data", help="dataset JSON file")
    c.add_argument("--attention", choices=ATTENTIONS, default="hardmax", help="attention kind (default hardmax)")
    c.add_argument(
        "--max-width",
        default="4",
        help="largest FF hidden width: 4 (default) moves one point per block; 'none' gives the shallowest model",
    )
    c.add_argument("-o", "--output", default="-", help="model JSON file to write (default: stdout)")
    v = sub.add_parser("verify", help="check exact interpolation (exit 0 iff exact)", **documented)
    v.add_argument("data", help="dataset JSON file")
    v.add_argument("model", help="model JSON file")
    v.add_argument("--json", action="store_true", help="print the full report as JSON")
    v.add_argument("--margins", action="store_true", help="also report exact hardmax score margins per layer")
    v.add_argument(
        "--float-tol",
        type=float,
        default=FLOAT_TOL,
        help=f"warn when the float64 deviation exceeds this fraction of the data's scale (default {FLOAT_TOL:g})",
    )
    v.add_argument(
        "--certify-floats",
        action="store_true",
        help="also compute a certified bound of the float64 deviation (ball arithmetic with float64 rounding)",
    )
    v.add_argument(
        "--jax",
        action="store_true",
        help="also run the model through the JAX float64 forward of exactinterp.training (an independent "
        "implementation) and report its deviation from the targets",
    )
    r = sub.add_parser("run", help="apply a model and print the outputs as JSON", **documented)
    r.add_argument("model", help="model JSON file")
    r.add_argument("input", help="input JSON file: one sequence, or {'inputs': [...]}")
    r.add_argument("--float", action="store_true", help="float64 forward instead of the exact one")
    return p


def _fail(msg: str, code: int = 2) -> int:
    print(f"exactinterp: error: {msg}", file=sys.stderr)
    return code


def _progress() -> bool:
    return sys.stderr.isatty()


def _token_json(v: Any) -> Any:
    if isinstance(v, Q):
        s = q_to_str(v)
        return int(s) if "/" not in s else s
    if isinstance(v, (float, np.floating)):
        return float(v)
    return float(v.mid())  # a narrow ball that no snap made exact: its midpoint (checked by _check_balls)


def _check_balls(outs: list[np.ndarray]) -> int:
    """Number of output entries that are certified balls, not rationals; InputError if one is too wide to print."""
    balls = 0
    for j, out in enumerate(outs):
        for i, tok in enumerate(out):
            for v in tok:
                if isinstance(v, (Q, float, np.floating)):
                    continue
                balls += 1
                mid, rad = float(v.mid()), float(v.rad())
                if not (np.isfinite(mid) and rad <= RUN_BALL_TOL * max(1.0, abs(mid))):
                    raise InputError(
                        f"input sequence {j}, token {i}: the certified enclosure of the output is too wide "
                        f"({v.str(5, radius=True)}); this input is not one the model was built for (a model is "
                        "certified only on its dataset): use --float for the float64 forward"
                    )
    return balls


def _cmd_construct(a: argparse.Namespace) -> int:
    width: int | None
    if str(a.max_width).lower() in ("none", "inf", "unbounded"):
        width = None
    else:
        try:
            width = int(a.max_width)
        except ValueError:
            return _fail(f"--max-width must be an integer >= 4 or 'none', not {a.max_width!r}")
    ds = Dataset.from_json(a.data)
    T = construct(ds, attention=a.attention, max_width=width, progress=_progress())
    text = T.to_json()
    if a.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(a.output, text)
        print(f"wrote {a.output}: {T.num_blocks} blocks, {T.num_parameters} nonzero parameters", file=sys.stderr)
    return 0


def _cmd_verify(a: argparse.Namespace) -> int:
    ds = Dataset.from_json(a.data)
    T = Transformer.from_json(a.model)
    if not a.float_tol > 0:
        return _fail(f"--float-tol must be positive, not {a.float_tol!r}")
    rep = verify(T, ds, progress=_progress(), margins=a.margins, float_tol=a.float_tol, certify_floats=a.certify_floats)
    jax_dev = _jax_deviation(T, ds) if a.jax else None
    if a.json:
        d = rep.to_dict()
        if rep.margins is not None:
            d["margins"] = [None if m is None else q_to_str(m) for m in rep.margins]
        if jax_dev is not None:
            d["jax_float_deviation"] = jax_dev
        print(json.dumps(d, indent=1))
    else:
        print(rep.summary())
        if rep.margins is not None:
            print(_margins_text(rep.margins))
        if jax_dev is not None:
            rel = jax_dev / data_scale(ds)
            print(f"JAX float64 forward: max |output - target| = {jax_dev:.3g} ({rel:.3g} of the data's scale)")
        for line in rep.mismatch_lines():
            print(line, file=sys.stderr)
    warning = rep.float_warning()
    if warning:
        print(f"exactinterp: {warning}", file=sys.stderr)
    return 0 if rep.ok else 1


def _jax_deviation(T: Transformer, ds: Dataset) -> float:
    """Largest |JAX float64 forward - target| (imported here: JAX takes ~2 s to load, verify alone needs none)."""
    from . import training  # the one deferred import: tests/test_architecture.py

    return training.jax_target_deviation(T, ds.inputs, [ds.targets(j) for j in range(ds.N)])


def _margins_text(margins: list[Any]) -> str:
    """One line: the exact margin of every hardmax layer that decides something."""
    parts = [f"block {k}: {q_to_str(m)} (~{float(m):.3g})" for k, m in enumerate(margins) if m is not None]
    if not parts:
        return "hardmax margins: no layer decides between distinct scores"
    return "hardmax margins (smallest best - runner-up score gap): " + "; ".join(parts)


def _cmd_run(a: argparse.Namespace) -> int:
    T = Transformer.from_json(a.model)
    data = load_json_exact(a.input, what="input")
    single = isinstance(data, list)
    if single:
        seqs = [data]
    elif isinstance(data, dict) and isinstance(data.get("inputs"), list):
        seqs = data["inputs"]
    else:
        raise InputError("input must be a sequence (list of tokens) or an object with 'inputs'")
    arrays = []
    for j, X in enumerate(seqs):
        if not isinstance(X, list) or not X or not all(isinstance(t, list) for t in X):
            raise InputError(f"input sequence {j} must be a non-empty list of tokens")
        try:
            arr = q_matrix(X)
        except NumberError as exc:
            raise InputError(f"input sequence {j}: {exc}") from None
        if any(abs(v) > MAX_MAGNITUDE for v in arr.ravel()):
            raise InputError(f"input sequence {j}: a coordinate exceeds 1e300 in absolute value (not supported)")
        if arr.shape[1] != T.d:
            raise InputError(f"input sequence {j} has tokens of dimension {arr.shape[1]}, the model expects {T.d}")
        arrays.append(arr)
    outs = T.forward_many(arrays, exact=not a.float, progress=_progress())
    balls = 0 if a.float else _check_balls(outs)
    res = [[[_token_json(v) for v in tok] for tok in out] for out in outs]
    print(json.dumps(res[0] if single else {"outputs": res}))
    if balls:
        print(
            f"exactinterp: note: {balls} output entr{'y is' if balls == 1 else 'ies are'} not exact: printed as "
            "floats, the midpoints of certified enclosures of relative radius <= 1e-6 (the input is off the "
            "model's dataset)",
            file=sys.stderr,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = _parser()
    a = parser.parse_args(argv)
    try:
        return {"construct": _cmd_construct, "verify": _cmd_verify, "run": _cmd_run}[a.cmd](a)
    except (InputError, ModelError, NumberError, ConstructionError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except RecursionError:
        return _fail("input is nested too deeply")
    except OverflowError:
        return _fail("a number is too large for float64 (|x| > 1.8e308): the engine keeps float64 shadows")
    except OSError as exc:  # e.g. the output directory does not exist or is not writable
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return _fail(f"cannot write{where}: {exc.strerror or exc}")
    except MemoryError:
        return _fail("input is too large for the available memory")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: still one line, no traceback
        return _fail(f"internal error ({type(exc).__name__}: {exc}); please report it", 3)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
