"""The hardmax construction, one function per step (separation, box, leaders, clustering, interpolation).

Each step takes the current :class:`Build` and appends its blocks; the exact token state after
every step is kept so chapters can show it. All constants are exact rationals chosen
deterministically (the same dataset gives the same model everywhere).

Blocks: 1 separation block (omitted when the classes already share no token) + 1 box block +
ceil(P / b) leader blocks (the last one carries the clustering SA) + ceil(P / b) interpolation
blocks, where P <= sum_j m^j is the number of leader points and b = floor(max_width / 4) bumps
(4 ReLUs each: a trapezoid, so float roundings of a moved value are not amplified) fit in one FF
layer. With the default max_width = 4 this is at most 2 sum_j m^j + 2 blocks; with
max_width = None (unbounded) it is at most 4 blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..layers import Block
from ..numbers import ONE, ZERO, denominator, numerator, row_key, to_float_array, to_q
from ..state import State
from ..transformer import Transformer
from .primitives import (
    Neuron,
    affine_ff,
    all_tie_sa,
    best_direction,
    bump_neurons,
    clustering_sa,
    constant_neuron,
    direction_candidates,
    ff_from_neurons,
    identity_sa,
    power_of_two_below,
    rank_one_sa,
)

__all__ = [
    "ConstructionError",
    "Build",
    "Step",
    "Leader",
    "start",
    "separation",
    "rank_one_separation",
    "rank_one_separation_block",
    "slab_width",
    "pre_clustering_state",
    "choose_direction",
    "token_values",
    "box",
    "leader_selection",
    "interpolation",
    "build_hardmax",
    "parameter_bound",
    "separation_features",
    "construct_hardmax",
]


#: ReLU units per bump (a trapezoid: flat top of half-width eps / 2, zero beyond eps).
BUMP_WIDTH = 4


class ConstructionError(ValueError):
    """The construction cannot serve this input (says 'not supported by this construction')."""


@dataclass
class Step:
    name: str
    blocks: list[Block]
    state: State  # exact token state after the step


@dataclass
class Leader:
    """One point of the clustered configuration: a class's value and its output."""

    cls: int  # index into Build.classes
    row: int  # a state row holding this value
    target: tuple  # the output it must reach
    first: bool  # True for the class's first leader (goes to the diagonal)
    position: Any = None  # value after leader selection (p_c or a sphere point)


@dataclass
class Build:
    """A construction in progress: dataset, classes, steps so far."""

    ds: Dataset
    classes: list[list[int]]
    state: State
    attention_tau: Any = ZERO
    max_width: int | None = 4
    progress: bool = False  # tqdm bars on stderr for the long phases
    steps: list[Step] = field(default_factory=list)
    leaders: list[Leader] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def d(self) -> int:
        return self.ds.d

    @property
    def blocks(self) -> list[Block]:
        return [b for s in self.steps for b in s.blocks]

    @property
    def transformer(self) -> Transformer:
        return Transformer(self.d, self.blocks)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def add(self, name: str, blocks: list[Block]) -> Step:
        st = self.state.copy()  # one copy per step; blocks then act in place
        for b in blocks:
            st = b.apply(st, inplace=True)
        self.state = st
        s = Step(name, blocks, st)
        self.steps.append(s)
        return s

    def bumps_per_layer(self) -> int:
        if self.max_width is None:
            return 10**9
        if self.max_width < BUMP_WIDTH:
            raise ConstructionError(
                f"not supported by this construction: max_width must be >= {BUMP_WIDTH} "
                f"(a bump has {BUMP_WIDTH} neurons)"
            )
        return self.max_width // BUMP_WIDTH


def start(ds: Dataset, *, max_width: int | None = 4, tau: Any = ZERO) -> Build:
    """Initial state: every input sequence, and the classes of equal-distribution sequences."""
    st = State.from_sequences(list(ds.inputs))
    return Build(ds=ds, classes=ds.classes(), state=st, attention_tau=to_q(tau), max_width=max_width)


# ---------------------------------------------------------------------------- helpers


def _class_rows(b: Build, c: int) -> np.ndarray:
    j = b.classes[c][0]
    sl = b.state.seq_slice(j)
    return np.arange(sl.start, sl.stop)


def _distinct_rows(E: np.ndarray, rows: np.ndarray) -> dict[tuple, int]:
    """One row index per distinct value among ``rows`` (keyed by the exact row key)."""
    out: dict[tuple, int] = {}
    for r in rows:
        out.setdefault(row_key(E[r]), int(r))
    return out


def _values_disjoint(b: Build, E: np.ndarray) -> bool:
    """True when no token value occurs in two different classes."""
    owner: dict[tuple, int] = {}
    for c in range(len(b.classes)):
        for r in _class_rows(b, c):
            if owner.setdefault(row_key(E[r]), c) != c:
                return False
    return True


def _all_values(b: Build) -> tuple[np.ndarray, np.ndarray]:
    """Distinct current token values (exact, float) over the representative sequences."""
    rows = np.concatenate([_class_rows(b, c) for c in range(len(b.classes))])
    uniq = _distinct_rows(b.state.E, rows)
    idx = np.array(list(uniq.values()), dtype=int)
    return b.state.E[idx], b.state.F[idx]


def choose_direction(vals_f: np.ndarray, d: int, seed: int) -> tuple[tuple, float]:
    """Direction u maximising the smallest projection gap of ``vals_f`` (distinct values, float64).

    Small-integer candidates first; if every one of them maps two values to the same projection
    (lattice-like data), moment curves (1, a, a^2, ...) with growing a, which are injective on any
    finite set once a is large enough. Raises ConstructionError if float64 cannot separate them.
    """
    u, gap = best_direction(vals_f, direction_candidates(d, seed=seed))
    k = 2
    while not gap > 0 and k < 40:
        a = 2**k + 1
        u, gap = best_direction(vals_f, [tuple(to_q(s * a) ** i for i in range(d)) for s in (1, -1)])
        k += 2
    if not gap > 0:
        raise ConstructionError("not supported by this construction: two values have equal projections in float64")
    return u, gap


def token_values(b: Build) -> list[tuple]:
    """The distinct current token values (exact) of the classes' representative sequences."""
    return [tuple(x) for x in _all_values(b)[0]]


def _dot(u: tuple, x) -> Any:
    return sum((a * v for a, v in zip(u, x, strict=True)), ZERO)


# ---------------------------------------------------------------------------- step 1


def separation(b: Build, *, force: bool = False) -> Step | None:
    """One block making the token sets of different classes disjoint (ours, not the paper's).

    FF: ``f(x) = x + sum_k w_k relu(<u, x> - beta_k)`` (a few generic ReLU features).
    SA: all-tie (Q = K = 0), rho = 1, V = lam I: ``x_i -> f(x_i) + lam * mean_j f(x_j)``.
    Classes have different distributions, so suitable features give different means; lam is
    chosen so that no two classes share a value afterwards (checked exactly).
    Returns None when the classes already share no token (unless ``force``).
    """
    d = b.d
    if not force and _values_disjoint(b, b.state.E):
        b.info["separation"] = "not needed"
        return None
    vals_E, vals_F = _all_values(b)
    u, _ = best_direction(vals_F, direction_candidates(d, seed=1))
    proj = {tuple(x): _dot(u, x) for x in vals_E}
    levels = sorted(set(proj.values()))
    cand_beta = [levels[0] - 1] + [(levels[i] + levels[i + 1]) / 2 for i in range(len(levels) - 1)]
    # order candidates from the median outwards; the first 24 are tried first, the others only if
    # none of those splits a class (some threshold always does: see book/separation.ipynb)
    mid = len(cand_beta) // 2
    order = sorted(range(len(cand_beta)), key=lambda i: abs(i - mid))
    cls_rows = [_class_rows(b, c) for c in range(len(b.classes))]

    def means(beta):
        out = []
        for rows in cls_rows:
            s = ZERO
            for r in rows:
                t = proj[tuple(b.state.E[r])] - beta
                if t > 0:
                    s += t
            out.append(s / len(rows))
        return out

    base = []
    for rows in cls_rows:
        tot = b.state.E[rows].sum(axis=0) * (ONE / len(rows))
        base.append(tuple(tot))
    sig = [list(x) for x in base]
    betas: list[Any] = []
    while len({tuple(s) for s in sig}) < len(sig):
        best = None
        now = len({tuple(s) for s in sig})
        for n_tried, i in enumerate(order):
            beta = cand_beta[i]
            if beta in betas:
                continue
            if n_tried >= 24 and best is not None and best[0] > now:
                break
            mm = means(beta)
            k = len({(*s, m) for s, m in zip(sig, mm, strict=True)})
            if best is None or k > best[0]:
                best = (k, beta, mm)
            if k == len(sig):
                break
        if best is None or best[0] == len({tuple(s) for s in sig}):
            raise ConstructionError("not supported by this construction: no ReLU feature separates the class means")
        betas.append(best[1])
        sig = [s + [m] for s, m in zip(sig, best[2], strict=True)]
    # output directions of the features, and lam: exact checks of injectivity/disjointness
    for attempt in range(40):
        ws = [tuple(to_q((k + 2 + attempt) ** i) / (i + 1 + attempt) for i in range(d)) for k in range(len(betas))]
        neurons = [Neuron(u, -beta, w) for beta, w in zip(betas, ws, strict=True)]
        ff = ff_from_neurons(d, neurons)
        st1 = ff.apply(b.state)
        if len(_distinct_rows(st1.E, np.arange(st1.n_total))) != len(_distinct_rows(b.state.E, np.arange(st1.n_total))):
            continue  # the feature map merged two values
        for lam in (ONE, ONE / 2, to_q(2), ONE / 3, to_q(3), to_q(3) / 2, to_q(2) / 3, to_q(5) / 4):
            sa = all_tie_sa(d, lam, tau=b.attention_tau)
            st2 = sa.apply(st1)
            if _values_disjoint(b, st2.E):
                b.info["separation"] = {"features": len(betas), "lambda": lam, "u": u}
                return b.add("separation", [Block(ff, sa)])
    raise ConstructionError("not supported by this construction: could not find a separating feature/step")


def _class_value_sets(b: Build, E: np.ndarray) -> list[set]:
    return [{tuple(E[r]) for r in _class_rows(b, c)} for c in range(len(b.classes))]


def rank_one_separation_block(
    b: Build, z: tuple, *, lam: Any = ONE / 2, v: tuple | None = None, u: tuple | None = None
) -> Block:
    """The paper's separation block (Figure 6), for the current state of ``b``.

    FF: shift every token by ``t0`` (so that <v, x> >= 1) and push the token value ``z`` by
    ``M v`` with a bump on the slab ``|<u, x - z>| < eps`` (M beyond the data span along v).
    SA: rank one along v (Q = K = v^T), rho = 1, V = lam I: every token moves by lam times the
    mean of its sequence's top tokens along v (Lemma 4.1, one-sided). ``v``, ``u`` default to
    generic directions; the slab half-width is :func:`slab_width`.
    """
    d = b.d
    vals_E, vals_F = _all_values(b)
    z = tuple(z)
    if v is None:
        v, _ = choose_direction(vals_F, d, seed=3)
    if u is None:
        u, _ = choose_direction(vals_F, d, seed=5)
    eps = slab_width(u, z, [tuple(x) for x in vals_E])
    pv = [_dot(v, x) for x in vals_E]
    v2 = _dot(v, v)
    t0 = tuple((ONE - min(pv)) / v2 * vi for vi in v)
    M = (max(pv) - min(pv) + 2) / v2  # <v, z + M v> exceeds every other <v, x> by >= 2
    neurons = [constant_neuron(t0), *bump_neurons(u, z, eps, [M * vi for vi in v])]
    return Block(ff_from_neurons(d, neurons), rank_one_sa(v, lam=lam, rho=ONE, tau=b.attention_tau))


def slab_width(u: tuple, z: tuple, values: list[tuple]) -> Any:
    """Half-width eps (a power of two) of a slab around z along u holding no other value."""
    uz = _dot(u, z)
    others = [abs(_dot(u, x) - uz) for x in values if tuple(x) != tuple(z)]
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
    while not _values_disjoint(b, b.state.E):
        if len(blocks) >= limit:
            raise ConstructionError("not supported by this construction: rank-one separation did not finish")
        sets = _class_value_sets(b, b.state.E)
        pair = next((c1, c2) for c1 in range(len(sets)) for c2 in range(c1) if sets[c1] & sets[c2])
        diff = (sets[pair[0]] ^ sets[pair[1]]) if sets[pair[0]] != sets[pair[1]] else set()
        if not diff:
            raise ConstructionError(
                "not supported by this construction: rank-one separation sees token sets only, and "
                f"classes {pair[1]} and {pair[0]} have the same token set"
            )
        z = min(diff)
        for lam in (ONE / 2, ONE / 3, to_q(2) / 3, ONE / 5, to_q(3) / 4):
            blk = rank_one_separation_block(b, z, lam=lam)
            st = blk.apply(b.state)
            before = sum(len(x & y) for i, x in enumerate(sets) for y in sets[:i])
            after_sets = _class_value_sets(b, st.E)
            after = sum(len(x & y) for i, x in enumerate(after_sets) for y in after_sets[:i])
            if after < before:
                break
        else:
            raise ConstructionError("not supported by this construction: no rank-one step reduced the overlap")
        blocks.append(blk)
        b.state = st
    b.state = st0
    b.info["separation"] = {"kind": "rank-one", "blocks": len(blocks)}
    return b.add("separation", blocks)


def pre_clustering_state(b: Build) -> State:
    """Token state after the leader-selection FFs, just before the clustering SA (Figure 7, right)."""
    st = b.step("box").state
    blocks = b.step("leaders").blocks
    for blk in blocks[:-1]:
        st = blk.apply(st)
    return blocks[-1].ff.apply(st)


# ---------------------------------------------------------------------------- step 2


def box(b: Build) -> Step:
    """One block mapping every token into [1/4, 3/4]^d inside the box (0, 1)^d: ``x -> eta x + t 1``.

    eta = 2^k is the largest power of two with eta (hi - lo) <= 1/2 (k may be positive: small data
    are stretched), so the map does not depend on the data's units beyond a power of two, and the
    later bump widths (and with them the float behaviour) are scale-invariant.
    """
    d = b.d
    flat = b.state.E.ravel()
    lo, hi = min(flat), max(flat)
    span = hi - lo
    eta = power_of_two_below(0.5 / float(span)) if span > 0 else ONE
    while eta * span > ONE / 2:
        eta = eta / 2
    while span > 0 and 2 * eta * span <= ONE / 2:
        eta = 2 * eta
    t = ONE / 4 - eta * lo
    ff = affine_ff(d, eta, [t] * d)
    b.info["box"] = {"eta": eta, "shift": t, "lo": lo, "hi": hi}
    return b.add("box", [Block(ff, identity_sa(d, b.attention_tau))])


# ---------------------------------------------------------------------------- step 3


def _plan_leaders(b: Build) -> list[Leader]:
    """First leader of each class (its first token), plus one leader per other value whose target differs."""
    leaders = []
    for c, group in enumerate(b.classes):
        j = group[0]
        vm = b.ds._maps[j]  # row key of a token -> row key of its target
        tgt = {row_key(y): tuple(y) for y in b.ds.outputs[j]}
        X = b.ds.inputs[j]
        sl = b.state.seq_slice(j)
        first_key = row_key(X[0])
        first_tgt = vm[first_key]
        leaders.append(Leader(c, sl.start, tgt[first_tgt], True))
        seen = {first_key}
        for i, x in enumerate(X):
            k = row_key(x)
            if k in seen:
                continue
            seen.add(k)
            if vm[k] != first_tgt:
                leaders.append(Leader(c, sl.start + i, tgt[vm[k]], False))
    return leaders


def sphere_points(d: int, count: int, R: Any, avoid: set) -> list[tuple]:
    """Distinct rational points of the sphere |x| = R in the open negative orthant.

    Inverse stereographic projection of r = -c w (w = (1, 2, ..., d-1), 0 < c < 1/|w|):
    ``R (2 r, |r|^2 - 1) / (|r|^2 + 1)``, with c = k / (D W), W = ceil(|w|), spread over the arc.
    Every coordinate is strictly monotone in c on (0, 1/|w|), so the points have pairwise
    distinct coordinates on every axis. Points in ``avoid`` are skipped (D grows until enough remain).
    """
    w = [to_q(i + 1) for i in range(d - 1)]
    w2 = sum((x * x for x in w), ZERO)
    W = math.isqrt(int(w2))
    W += W * W < int(w2)
    D = count + 1
    while True:
        pts: list[tuple] = []
        for k in range(1, D):
            c = to_q(k) / (D * W)
            r = [-c * x for x in w]
            r2 = c * c * w2
            p = tuple([R * 2 * x / (r2 + 1) for x in r] + [R * (r2 - 1) / (r2 + 1)])
            if p not in avoid:
                pts.append(p)
        if len(pts) >= count:
            return pts[:count]
        D += 1


def leader_selection(b: Build) -> Step:
    """Bump FFs moving each first leader to t_c 1 (region P) and each extra leader onto S_R ∩ R^d_<0.

    The SA of the last leader block is the clustering layer (Q = K = V = I, rho = 0): Lemmas
    4.2 + 4.3 collapse every other token onto its class's first leader in that same block.
    """
    d = b.d
    leaders = _plan_leaders(b)
    b.leaders = leaders
    targets = {ld.target for ld in leaders}
    t0 = math.isqrt(d) + 2  # t > sqrt(d): leaders dominate every box token (also by Cauchy-Schwarz)
    firsts = [ld for ld in leaders if ld.first]
    t_vals: list[Any] = []
    t = t0
    while len(t_vals) < len(firsts):
        if tuple([to_q(t)] * d) not in targets:
            t_vals.append(to_q(t))
        t += 1
    R = to_q(2 * (math.isqrt(d) + 1))
    extras = [ld for ld in leaders if not ld.first]
    sph = sphere_points(d, len(extras), R, targets)
    for ld, tv in zip(firsts, t_vals, strict=True):
        ld.position = tuple([tv] * d)
    for ld, p in zip(extras, sph, strict=True):
        ld.position = p
    b.info["leaders"] = {"count": len(leaders), "t": t_vals, "R": R}
    moves = [(tuple(b.state.E[ld.row]), ld.position) for ld in leaders]
    relevant = np.concatenate([_all_values(b)[0], np.array([p for _, p in moves], dtype=object)])
    blocks = _bump_blocks(b, moves, relevant)
    blocks[-1] = Block(blocks[-1].ff, clustering_sa(d, b.attention_tau))
    return b.add("leaders", blocks)


def _bump_blocks(b: Build, moves: list[tuple[tuple, tuple]], relevant: np.ndarray) -> list[Block]:
    """Blocks of bump FFs performing ``moves`` (value z -> destination), ``bumps_per_layer`` per FF.

    ``relevant`` (exact rows) holds every value that exists at any time during the phase (the
    current values and all destinations). Each bump gets its own direction u, chosen among
    deterministic candidates to maximise the gap between <u, z> and the projections of the
    other relevant values (normalised by |u|), and its own half-width eps = a power of two at
    most a third of that gap; an exact check confirms that no other relevant value lies within
    eps of z along u, so the bump moves the value z and nothing else. Bumps of one FF sum up:
    their slabs are disjoint (each is empty of the other centres).
    """
    d = b.d
    per = b.bumps_per_layer()
    cands = direction_candidates(d, count=16, seed=7)
    C = to_float_array(np.array(cands, dtype=object))  # (k, d)
    norms = np.linalg.norm(C, axis=1)
    RF = to_float_array(relevant)
    P = RF @ C.T  # (R, k) projections of the relevant values
    S = np.sort(P, axis=0)
    neurons_per_move = []
    if b.progress:
        from tqdm.auto import tqdm

        moves_iter = tqdm(moves, desc=f"construct ({b.steps[-1].name} done)", unit="move", leave=False)
    else:
        moves_iter = moves
    for z, dest in moves_iter:
        zf = to_float_array(np.array(z, dtype=object))
        t = zf @ C.T
        gaps = np.empty(len(cands))
        active = np.empty(len(cands), dtype=int)  # values on the side where all 4 neurons fire
        flip = np.zeros(len(cands), dtype=bool)
        for c in range(len(cands)):
            col = S[:, c]
            lo = np.searchsorted(col, t[c], "left")
            hi = np.searchsorted(col, t[c], "right")
            left = t[c] - col[lo - 1] if lo > 0 else np.inf
            right = col[hi] - t[c] if hi < len(col) else np.inf
            gaps[c] = min(left, right)
            # -u gives the same bump with the neurons firing on the other side; on the firing side
            # the four ReLUs cancel exactly in rationals but not in floats, so keep it small
            flip[c] = lo < len(col) - hi
            active[c] = min(lo, len(col) - hi)
        score = gaps / norms
        good = score >= 0.5 * np.max(score[np.isfinite(score)], initial=0.0)
        order = sorted(range(len(cands)), key=lambda c: (not good[c], active[c] if good[c] else -score[c]))
        for c in order:
            gap = gaps[c]
            if not np.isfinite(gap):
                gap = 1.0 + abs(t[c])
            if not gap > 0:
                continue
            eps = power_of_two_below(gap / 3)
            if _isolated(cands[c], z, eps, relevant, P[:, c], t[c]):
                delta = [p - q for p, q in zip(dest, z, strict=True)]
                u = tuple(-v for v in cands[c]) if flip[c] else cands[c]
                neurons_per_move.append(bump_neurons(u, z, eps, delta, plateau=eps / 2))
                break
        else:  # float64 cannot resolve the gap (values far below the rounding of their magnitude)
            u, eps = _exact_gap_direction(cands, z, relevant)
            delta = [p - q for p, q in zip(dest, z, strict=True)]
            neurons_per_move.append(bump_neurons(u, z, eps, delta, plateau=eps / 2))
    blocks = []
    for g0 in range(0, len(moves), per):
        neurons = [n for grp in neurons_per_move[g0 : g0 + per] for n in grp]
        blocks.append(Block(ff_from_neurons(d, neurons), identity_sa(d, b.attention_tau)))
    return blocks


def _exact_gap_direction(cands: list[tuple], z: tuple, relevant: np.ndarray) -> tuple[tuple, Any]:
    """Exact fallback: the candidate with the largest exact gap around <u, z>, and eps <= gap / 3."""
    zk = tuple(z)
    others = {row_key(x): x for x in relevant if tuple(x) != zk}.values()
    best = None
    for u in cands:
        uz = _dot(u, z)
        gap = min((abs(_dot(u, x) - uz) for x in others), default=ONE)
        if gap > 0 and (best is None or gap * best[2] > best[1] * _norm1(u)):
            best = (u, gap, _norm1(u))
    if best is None:
        raise ConstructionError("not supported by this construction: no direction isolates a moved value")
    return best[0], power_of_two_below_exact(best[1] / 3)


def _norm1(u: tuple) -> Any:
    return sum((abs(v) for v in u), ZERO)


def power_of_two_below_exact(q: Any) -> Any:
    """Largest 2^k <= q for a positive rational q, in exact arithmetic."""
    k = numerator(q).bit_length() - denominator(q).bit_length()
    p = to_q(2) ** k if k >= 0 else ONE / to_q(2) ** (-k)
    while p > q:
        p = p / 2
    while 2 * p <= q:
        p = 2 * p
    return p


def _isolated(u: tuple, z: tuple, eps: Any, relevant: np.ndarray, proj_f: np.ndarray, tz: float) -> bool:
    """Exact check: every relevant value x != z has |<u, x - z>| >= eps (float filter, exact confirm)."""
    uz = _dot(u, z)
    slack = 2 * float(eps) + 1e-9 * (1.0 + abs(tz))
    zk = tuple(z)
    for i in np.nonzero(np.abs(proj_f - tz) < slack)[0]:
        x = tuple(relevant[i])
        if x != zk and abs(_dot(u, x) - uz) < eps:
            return False
    return True


# ---------------------------------------------------------------------------- step 4


def interpolation(b: Build) -> Step:
    """Bump FFs moving each leader point onto its target (Figure 8), never touching the others."""
    moves = [(tuple(b.state.E[ld.row]), tuple(ld.target)) for ld in b.leaders]
    # merge leaders that sit on the same point (cannot happen by construction; guard anyway)
    if len({z for z, _ in moves}) != len(moves):
        raise ConstructionError("not supported by this construction: two leaders share a point")
    relevant = np.array(list(dict.fromkeys([z for z, _ in moves] + [t for _, t in moves])), dtype=object)
    blocks = _bump_blocks(b, moves, relevant)
    return b.add("interpolation", blocks)


# ---------------------------------------------------------------------------- all


def build_hardmax(
    ds: Dataset, *, max_width: int | None = 4, separation_kind: str = "all-tie", progress: bool = False
) -> Build:
    """Run the four steps and keep every intermediate state.

    ``separation_kind``: "all-tie" (ours, one block) or "rank-one" (the paper's Figure 6, up to
    a few blocks per overlapping pair; fails on equal token sets in different proportions).
    """
    b = start(ds, max_width=max_width)
    b.progress = progress
    if separation_kind == "rank-one":
        rank_one_separation(b)
    elif separation_kind == "all-tie":
        separation(b)
    else:
        raise ValueError(f"unknown separation_kind {separation_kind!r}")
    box(b)
    leader_selection(b)
    interpolation(b)
    return b


def separation_features(b: Build) -> int:
    """Number F of ReLU features of the all-tie separation block (0 if there is none)."""
    sep = b.info.get("separation")
    return int(sep.get("features", 0)) if isinstance(sep, dict) else 0


def parameter_bound(b: Build) -> int:
    """Our bound on nonzero parameters: (16d + 12) sum_j m^j + (2d + 1) F + 5d + 4.

    Per leader point: two bumps of 4 neurons (U: 4d, b: 4, W: 4d) plus eta and rho of their two
    blocks; F separation features (2d + 1 each, F <= N - 1); box, clustering and the
    separation's constants 5d + 4.
    """
    d, sm = b.d, b.ds.sum_m
    return (16 * d + 12) * sm + (2 * d + 1) * separation_features(b) + 5 * d + 4


def construct_hardmax(ds: Dataset, *, max_width: int | None = 4, progress: bool = False) -> Transformer:
    """The hardmax transformer of the construction (see :func:`build_hardmax`)."""
    return build_hardmax(ds, max_width=max_width, progress=progress).transformer
