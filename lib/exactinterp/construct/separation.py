"""Step 1, separation: after it, no token value occurs in two classes of sequences.

Two constructions:

* :func:`separation` (ours, the default): ONE block. Its FF adds a few ReLU features
  ``f(x) = x + Σ_k w_k relu(<u, x> - β_k)``; its SA is all-tie (Q = K = 0, ρ = 1, V = λI), so every
  token moves by λ times its sequence's mean of f. Classes have different token proportions, so
  suitable thresholds β_k give different means; the exact tie rule is what makes this work.
* :func:`rank_one_separation` (the paper's Figure 6, reconstructed): rank-one blocks, each pushing
  one token value of one class far along v so that Lemma 4.1 moves that class's tokens. It sees
  token *sets* only and fails on equal sets in different proportions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO, exact_dot, row_key, to_q
from ..core.transformer import Block
from ..errors import ConstructionError
from .build import Build, Step, distinct_rows
from .bumps import choose_direction
from .primitives import (
    Neuron,
    all_tie_sa,
    best_direction,
    bump_neurons,
    constant_neuron,
    direction_candidates,
    ff_from_neurons,
    power_of_two_below,
    rank_one_sa,
)

__all__ = ["separation", "rank_one_separation", "rank_one_separation_block", "slab_width", "LAMBDAS"]

#: Candidate step sizes λ of the all-tie layer, tried in this order.
LAMBDAS = (ONE, ONE / 2, to_q(2), ONE / 3, to_q(3), to_q(3) / 2, to_q(2) / 3, to_q(5) / 4)


def separation(b: Build, *, force: bool = False) -> Step | None:
    """One block making the token sets of different classes disjoint (ours, not the paper's).

    Returns None when the classes already share no token value (unless ``force``).
    """
    if not force and b.values_disjoint():
        b.info["separation"] = "not needed"
        return None
    vals_E, vals_F = b.values()
    u, _ = best_direction(vals_F, direction_candidates(b.d, seed=1))
    proj = {row_key(x): exact_dot(u, x) for x in vals_E}  # row keys: hashing rationals is slow
    betas = _thresholds(b, proj)
    ff, sa, lam = _feature_layers(b, u, betas)
    b.info["separation"] = {"features": len(betas), "lambda": lam, "u": u}
    return b.add("separation", [ff, sa])


def _class_means(class_proj: list[list[Any]], beta: Any) -> list[Any]:
    """Per class, the mean of relu(<u, x> - beta) over its representative sequence (``class_proj``:
    the projections <u, x> of each class's tokens)."""
    out = []
    for projs in class_proj:
        s = ZERO
        for p in projs:
            t = p - beta
            if t > 0:
                s += t
        out.append(s / len(projs))
    return out


def _distinct(sig: list[list[Any]]) -> int:
    """Number of distinct signatures (exact row keys: hashing rationals one by one is slow)."""
    return len({row_key(s) for s in sig})


def _thresholds(b: Build, proj: dict) -> list[Any]:
    """Thresholds β_k, added greedily until the class signatures (mean, feature means) are distinct.

    Candidates lie between consecutive projections, ordered from the median outwards; after 24
    candidates the best one found so far is taken if it separates anything.
    """
    levels = sorted(set(proj.values()))
    cand_beta = [levels[0] - 1] + [(levels[i] + levels[i + 1]) / 2 for i in range(len(levels) - 1)]
    mid = len(cand_beta) // 2
    order = sorted(range(len(cand_beta)), key=lambda i: abs(i - mid))
    sig = [list(b.state.E[b.class_rows(c)].sum(axis=0) * (ONE / len(b.class_rows(c)))) for c in range(len(b.classes))]
    class_proj = [[proj[row_key(b.state.E[r])] for r in b.class_rows(c)] for c in range(len(b.classes))]
    betas: list[Any] = []
    while _distinct(sig) < len(sig):
        now = _distinct(sig)
        best = None
        for n_tried, i in enumerate(order):
            beta = cand_beta[i]
            if beta in betas:
                continue
            if n_tried >= 24 and best is not None and best[0] > now:
                break
            mm = _class_means(class_proj, beta)
            k = _distinct([[*s, m] for s, m in zip(sig, mm, strict=True)])
            if best is None or k > best[0]:
                best = (k, beta, mm)
            if k == len(sig):
                break
        if best is None or best[0] == now:
            raise ConstructionError("not supported by this construction: no ReLU feature separates the class means")
        betas.append(best[1])
        sig = [s + [m] for s, m in zip(sig, best[2], strict=True)]
    return betas


def _feature_layers(b: Build, u: tuple, betas: list[Any]) -> tuple[FeedForward, Any, Any]:
    """The feature FF (output directions w_k) and the all-tie SA (step λ), checked exactly.

    The FF must keep distinct values distinct, and after the SA no two classes may share a value.
    """
    d, rows = b.d, np.arange(b.state.n_total)
    n_values = len(distinct_rows(b.state.E, rows))
    for attempt in range(40):
        ws = [tuple(to_q((k + 2 + attempt) ** i) / (i + 1 + attempt) for i in range(d)) for k in range(len(betas))]
        ff = ff_from_neurons(d, [Neuron(u, -beta, w) for beta, w in zip(betas, ws, strict=True)])
        st1 = ff.apply(b.state)
        if len(distinct_rows(st1.E, rows)) != n_values:
            continue  # the feature map merged two values
        for lam in LAMBDAS:
            sa = all_tie_sa(d, lam, tau=b.filler_tau)
            if b.values_disjoint(sa.apply(st1).E):
                return ff, sa, lam
    raise ConstructionError("not supported by this construction: could not find a separating feature/step")


def _class_value_sets(b: Build, E: np.ndarray) -> list[set]:
    return [{tuple(E[r]) for r in b.class_rows(c)} for c in range(len(b.classes))]


def _overlap(sets: list[set]) -> int:
    """Number of (pair of classes, shared value) incidences."""
    return sum(len(x & y) for i, x in enumerate(sets) for y in sets[:i])


def rank_one_separation_block(
    b: Build, z: tuple, *, lam: Any = ONE / 2, v: tuple | None = None, u: tuple | None = None
) -> Block:
    """The paper's separation block (Figure 6), for the current state of ``b``.

    FF: shift every token by ``t0`` (so that <v, x> >= 1) and push the token value ``z`` by
    ``M v`` with a bump on the slab ``|<u, x - z>| < eps`` (M beyond the data span along v).
    SA: rank one along v (Q = K = v^T), rho = 1, V = lam I: every token moves by lam times the
    mean of its sequence's top tokens along v (Lemma 4.1, one-sided). ``v``, ``u`` default to
    generic directions; the slab half-width is :func:`slab_width`. A hardmax block (τ = 0).
    """
    vals_E, vals_F = b.values()
    z = tuple(z)
    if v is None:
        v, _ = choose_direction(vals_F, b.d, seed=3)
    if u is None:
        u, _ = choose_direction(vals_F, b.d, seed=5)
    eps = slab_width(u, z, [tuple(x) for x in vals_E])
    pv = [exact_dot(v, x) for x in vals_E]
    v2 = exact_dot(v, v)
    t0 = tuple((ONE - min(pv)) / v2 * vi for vi in v)
    M = (max(pv) - min(pv) + 2) / v2  # <v, z + M v> exceeds every other <v, x> by >= 2
    neurons = [constant_neuron(t0), *bump_neurons(u, z, eps, [M * vi for vi in v])]
    return Block(ff_from_neurons(b.d, neurons), rank_one_sa(v, lam=lam, rho=ONE, tau=ZERO))


def slab_width(u: tuple, z: tuple, values: list[tuple]) -> Any:
    """Half-width eps (a power of two) of a slab around z along u holding no other value."""
    uz = exact_dot(u, z)
    others = [abs(exact_dot(u, x) - uz) for x in values if tuple(x) != tuple(z)]
    if any(o == 0 for o in others):
        raise ConstructionError("not supported by this construction: the slab direction does not isolate z")
    return power_of_two_below(float(min(others)) / 3) if others else ONE


def rank_one_separation(b: Build, *, max_blocks: int | None = None) -> Step:
    """The paper's separation (Figure 6, reconstructed): rank-one blocks until classes share no value.

    Each block pushes one value z that lies in one of two overlapping classes but not in the
    other. It sees token *sets* only: classes with equal token sets (different proportions)
    cannot be split, and ConstructionError says so.
    """
    blocks: list[Block] = []
    st0 = b.state
    limit = max_blocks if max_blocks is not None else 4 * len(b.classes)
    while not b.values_disjoint():
        if len(blocks) >= limit:
            raise ConstructionError("not supported by this construction: rank-one separation did not finish")
        sets = _class_value_sets(b, b.state.E)
        c1, c2 = next((c1, c2) for c1 in range(len(sets)) for c2 in range(c1) if sets[c1] & sets[c2])
        diff = sets[c1] ^ sets[c2]
        if not diff:
            raise ConstructionError(
                "not supported by this construction: rank-one separation sees token sets only, and "
                f"classes {c2} and {c1} have the same token set"
            )
        blk, st = _reducing_block(b, min(diff), _overlap(sets))
        blocks.append(blk)
        b.state = st
    b.state = st0
    b.info["separation"] = {"kind": "rank-one", "blocks": len(blocks)}
    return b.add("separation", [lay for blk in blocks for lay in (blk.ff, blk.sa)])


def _reducing_block(b: Build, z: tuple, before: int):
    """A rank-one separation block pushing z that lowers the overlap, and the state after it."""
    for lam in (ONE / 2, ONE / 3, to_q(2) / 3, ONE / 5, to_q(3) / 4):
        blk = rank_one_separation_block(b, z, lam=lam)
        st = blk.apply(b.state)
        if _overlap(_class_value_sets(b, st.E)) < before:
            return blk, st
    raise ConstructionError("not supported by this construction: no rank-one step reduced the overlap")
