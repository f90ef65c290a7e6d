"""Speed never changes a weight: the models of a fixed suite are byte-identical to recorded ones.

``tests/data/engine/model_hashes.json`` holds the SHA-256 of ``construct(ds, ...).to_json()`` for
every dataset and configuration below, recorded before the engine's speed-ups. A change that
alters a model on purpose (a construction change) regenerates the file deliberately::

    .venv/bin/python tests/test_engine_identity.py --regenerate

and says why in its commit message.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from exactinterp import ConstructionError, Dataset, construct
from exactinterp.book.families import FAMILIES, dataset, depth, suite, uniform
from exactinterp.construct.hardmax import build_hardmax

HASHES = Path(__file__).resolve().parent / "data" / "engine" / "model_hashes.json"

#: name -> how the model is built from a dataset.
CONFIGS = {
    "narrow": lambda ds: construct(ds),
    "wide": lambda ds: construct(ds, max_width=None),
    "width8": lambda ds: construct(ds, max_width=8),
    "softmax": lambda ds: construct(ds, attention="softmax"),
    "softmax_wide": lambda ds: construct(ds, attention="softmax", max_width=None),
    "softmax_snap": lambda ds: construct(ds, attention="softmax", snap_to_targets=True),
    "rank_one": lambda ds: build_hardmax(ds, separation_kind="rank-one").transformer,
}


def datasets() -> Iterator[tuple[str, Dataset]]:
    """The fixed suite: two datasets of every family, a few larger uniform ones, a deep one."""
    for fam, seed, ds in suite(2, seed=0, families=list(FAMILIES)):
        yield f"{fam}-{seed}", ds
    yield "uniform-6x20x3", uniform(6, 20, 3, seed=0)
    yield "uniform-40x30x4", uniform(40, 30, 4, seed=1)
    yield "uniform-8x300x8", uniform(8, 300, 8, seed=2)
    yield "depth-21", depth(21, seed=2)
    yield "shared-d2-N30", dataset("shared", 7, d=2, N=30)


def model_hash(name: str, config: str, ds: Dataset) -> str:
    try:
        text = CONFIGS[config](ds).to_json()
    except ConstructionError as exc:  # a refusal is part of the behaviour too
        return f"refused: {exc}"
    return hashlib.sha256(text.encode()).hexdigest()


def compute() -> dict[str, str]:
    return {f"{name}/{c}": model_hash(name, c, ds) for name, ds in datasets() for c in CONFIGS}


@pytest.fixture(scope="module")
def recorded() -> dict[str, str]:
    return json.loads(HASHES.read_text())


@pytest.mark.parametrize("config", list(CONFIGS))
def test_models_byte_identical(recorded, config):
    got = {f"{name}/{config}": model_hash(name, config, ds) for name, ds in datasets()}
    want = {k: v for k, v in recorded.items() if k.endswith(f"/{config}")}
    assert set(got) == set(want), "the suite changed: regenerate the hashes deliberately"
    changed = sorted(k for k in got if got[k] != want[k])
    assert not changed, f"{len(changed)} models changed: {changed[:5]}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        raise SystemExit("usage: python tests/test_engine_identity.py --regenerate")
    HASHES.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {HASHES}")
