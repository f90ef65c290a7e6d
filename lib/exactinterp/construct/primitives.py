"""Layer constructors used by the constructions and the lemma chapters.

Feed-forward pieces are lists of neurons ``(u, beta, w)`` meaning ``w * relu(<u, x> + beta)``;
:func:`ff_from_neurons` stacks them into one :class:`FeedForward`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.attention import SelfAttention
from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO, denominator, numerator, to_float_array, to_q

__all__ = [
    "Neuron",
    "ff_from_neurons",
    "bump_neurons",
    "trapezoid_bumps",
    "dyadic_centre",
    "kink_profile_neurons",
    "constant_neuron",
    "affine_ff",
    "snap_neurons",
    "identity_sa",
    "all_tie_sa",
    "rank_one_sa",
    "clustering_sa",
    "rational_sphere_point",
    "direction_candidates",
    "best_direction",
    "power_of_two_below",
    "zeros",
    "eye",
]


@dataclass(frozen=True)
class Neuron:
    """One hidden unit: contributes ``w * relu(<u, x> + beta)`` to the FF output."""

    u: tuple
    beta: Any
    w: tuple


def zeros(*shape: int) -> np.ndarray:
    return np.full(shape, ZERO, dtype=object)


def eye(d: int, scale: Any = ONE) -> np.ndarray:
    out = zeros(d, d)
    for k in range(d):
        out[k, k] = to_q(scale)
    return out


def ff_from_neurons(d: int, neurons: Sequence[Neuron], eta: Any = ONE) -> FeedForward:
    """``eta x + sum_k w_k relu(<u_k, x> + beta_k)`` as a FeedForward layer."""
    w = len(neurons)
    U, b, W = zeros(w, d), zeros(w), zeros(d, w)
    for k, nrn in enumerate(neurons):
        U[k, :] = [to_q(v) for v in nrn.u]
        b[k] = to_q(nrn.beta)
        W[:, k] = [to_q(v) for v in nrn.w]
    return FeedForward(U=U, b=b, W=W, eta=eta)


def constant_neuron(shift: Sequence[Any]) -> Neuron:
    """A unit with U-row 0 and bias 1: adds the constant vector ``shift`` to every token."""
    d = len(shift)
    return Neuron(u=(ZERO,) * d, beta=ONE, w=tuple(to_q(v) for v in shift))


def bump_neurons(
    u: Sequence[Any], z: Sequence[Any], eps: Any, delta: Sequence[Any], plateau: Any = None, centre: Any = None
) -> list[Neuron]:
    """Units adding ``delta * phi(<u, x - z>)``: phi = 1 at 0 and phi = 0 for |t| >= eps.

    Without ``plateau``: the hat ``phi(t) = (relu(t + eps) - 2 relu(t) + relu(t - eps)) / eps``
    (3 units). With ``plateau = p`` (0 < p < eps): the trapezoid
    ``phi(t) = (relu(t + eps) - relu(t + p) - relu(t - p) + relu(t - eps)) / (eps - p)`` (4 units),
    equal to 1 on the whole plateau |t| <= p, so a value *near* z (a float rounding of z) moves by
    exactly ``delta`` too and its error is not amplified. Either way the value z moves by exactly
    ``delta`` and every value with |<u, x - z>| >= eps is untouched.

    ``centre`` (default ``<u, z>``) is where the profile is centred on the line t = <u, x>: a
    dyadic rational near ``<u, z>`` (:func:`dyadic_centre`) makes every bias exactly
    representable in float64, so that a float forward does not amplify the rounding of the
    biases by the slope. The caller keeps ``<u, z>`` on the plateau.
    """
    u = tuple(to_q(v) for v in u)
    eps = to_q(eps)
    uz = sum((a * to_q(b) for a, b in zip(u, z, strict=True)), ZERO) if centre is None else to_q(centre)
    if plateau is None:
        dl = tuple(to_q(v) / eps for v in delta)
        return [
            Neuron(u, eps - uz, dl),
            Neuron(u, -uz, tuple(-2 * v for v in dl)),
            Neuron(u, -eps - uz, dl),
        ]
    p = to_q(plateau)
    if not 0 < p < eps:
        raise ValueError("the plateau must satisfy 0 < plateau < eps")
    dl = tuple(to_q(v) / (eps - p) for v in delta)
    neg = tuple(-v for v in dl)
    return [Neuron(u, eps - uz, dl), Neuron(u, p - uz, neg), Neuron(u, -p - uz, neg), Neuron(u, -eps - uz, dl)]


def dyadic_centre(uz: Any, eps: Any) -> Any:
    """``uz`` rounded to the nearest multiple of eps / 16: within eps / 32 of it (eps a power of two).

    The biases ``±eps - c`` and ``±eps/2 - c`` of a bump centred at c are then multiples of
    eps / 16, exactly representable in float64 while ``|c| / eps < 2^48``.
    """
    step = to_q(eps) / 16
    q = to_q(uz) / step
    n, dn = numerator(q), denominator(q)
    return to_q((2 * n + dn) // (2 * dn)) * step


def trapezoid_bumps(ff: FeedForward) -> list[tuple[tuple, Any, Any]]:
    """Read back ``(u, c, eps)`` of each trapezoid (centre c, plateau 0 < p < eps) of an FF made of such bumps only."""
    if ff.eta != ONE or ff.width % 4:
        raise ValueError("not a layer of four-ReLU trapezoid bumps")
    out = []
    for i in range(0, ff.width, 4):
        U, b, W = ff.U[i : i + 4], ff.b[i : i + 4], ff.W[:, i : i + 4]
        u = tuple(U[0])
        eps, p, uz = (b[0] - b[3]) / 2, (b[1] - b[2]) / 2, -(b[0] + b[3]) / 2
        same_u = all(tuple(r) == u for r in U)
        shape = all(W[k, 0] == -W[k, 1] == -W[k, 2] == W[k, 3] for k in range(ff.d))
        if not (same_u and shape and 0 < p < eps and -(b[1] + b[2]) / 2 == uz):
            raise ValueError("not a layer of four-ReLU trapezoid bumps")
        out.append((u, uz, eps))
    return out


def kink_profile_neurons(
    u: Sequence[Any], s: Any, c: Any, dd: Any, a: Any, depth: Any, out: Sequence[Any]
) -> list[Neuron]:
    """Four units adding ``out * g(<u, x>)``, g the piecewise-linear profile we read in the paper's Figure 8
    (right): the increment of a one-sided snap (the interpolation chapter's snap lemma).

    ``g(t) = a relu(s - dd - t) - b relu(t - s + dd) + (b + e) relu(t - s) - e relu(t - s - c)`` with
    ``b = depth / dd`` and ``e = b dd / c``: g falls (slope -a) to 0 at s - dd, to ``-depth`` at s,
    rises back to 0 at s + c and vanishes beyond. With ``depth = dd`` (slope -1 on [s - dd, s]) the map
    ``t + g(t)`` collapses [s - dd, s] onto s - dd; with a = 0 the left unit is absent (3 units).
    """
    u = tuple(to_q(v) for v in u)
    s, c, dd, a, depth = (to_q(v) for v in (s, c, dd, a, depth))
    b = depth / dd
    e = b * dd / c
    mu = tuple(-v for v in u)
    o = [to_q(v) for v in out]
    return [
        Neuron(mu, s - dd, tuple(a * v for v in o)),
        Neuron(u, dd - s, tuple(-b * v for v in o)),
        Neuron(u, -s, tuple((b + e) * v for v in o)),
        Neuron(u, -s - c, tuple(-e * v for v in o)),
    ]


def affine_ff(d: int, eta: Any, shift: Sequence[Any]) -> FeedForward:
    """``x -> eta x + shift`` (one constant neuron)."""
    return ff_from_neurons(d, [constant_neuron(shift)], eta=eta)


def snap_neurons(d: int, axis: int, c: Any, a: Any, b: Any) -> list[Neuron]:
    """Four units making ``x_axis -> g(x_axis)``: g = c on [c - b, c + b], the identity off [c - a, c + a].

    g is continuous and piecewise linear: it rises linearly from c - a (at x = c - a) to c (at
    x = c - b), is flat, and rises from c (at c + b) back to the identity at c + a. The increment
    g(x) - x has slopes 0, b/(a - b), -1, b/(a - b), 0 on the five pieces. Requires 0 < b < a.
    """
    c, a, b = to_q(c), to_q(a), to_q(b)
    u = tuple(ONE if k == axis else ZERO for k in range(d))
    s = b / (a - b)
    kinks = [(c - a, s), (c - b, -1 - s), (c + b, 1 + s), (c + a, -s)]  # (position, change of slope)
    return [Neuron(u, -x0, tuple(slope if k == axis else ZERO for k in range(d))) for x0, slope in kinks]


def identity_sa(d: int, tau: Any = ZERO) -> SelfAttention:
    return SelfAttention.identity(d, tau=tau)


def all_tie_sa(d: int, lam: Any, rho: Any = ONE, tau: Any = ZERO) -> SelfAttention:
    """Q = K = 0: every score ties, so every token moves by ``lam`` times the sequence mean."""
    return SelfAttention(Q=zeros(1, d), K=zeros(1, d), V=eye(d, lam), rho=rho, tau=tau)


def rank_one_sa(v: Sequence[Any], lam: Any = ONE, rho: Any = ZERO, tau: Any = ZERO) -> SelfAttention:
    """Q = K = v^T (h = 1), V = lam I: Lemma 4.1's layer."""
    d = len(v)
    row = np.array([[to_q(x) for x in v]], dtype=object)
    return SelfAttention(Q=row, K=row.copy(), V=eye(d, lam), rho=rho, tau=tau)


def clustering_sa(d: int, tau: Any = ZERO) -> SelfAttention:
    """Q = K = V = I, rho = 0: Lemmas 4.2 and 4.3's layer."""
    return SelfAttention(Q=eye(d), K=eye(d), V=eye(d), rho=ZERO, tau=tau)


def rational_sphere_point(r: Sequence[Any], R: Any = ONE) -> tuple:
    """Inverse stereographic projection ``R (2 r, |r|^2 - 1) / (|r|^2 + 1)``: a rational point of |x| = R.

    Every rational point of the sphere except the pole R e_d is obtained (from r = x' / (R - x_d)).
    """
    R = to_q(R)
    r = [to_q(v) for v in r]
    r2 = sum((v * v for v in r), ZERO)
    den = r2 + 1
    return tuple([R * 2 * v / den for v in r] + [R * (r2 - 1) / den])


def direction_candidates(d: int, count: int = 12, seed: int = 0) -> list[tuple]:
    """Deterministic small-integer directions: moment curves (1, a, a^2, ...) and seeded draws."""
    out = []
    for a in (2, 3, -2, 5):
        out.append(tuple(to_q(a) ** k for k in range(d)))
    rng = np.random.default_rng(seed)
    while len(out) < count:
        v = rng.integers(-9, 10, size=d) if len(out) % 2 else rng.integers(-999, 1000, size=d)
        if np.any(v != 0):
            out.append(tuple(to_q(int(x)) for x in v))
    return out


def power_of_two_below(x: float) -> Any:
    """Largest 2^k (k integer) with 2^k <= x, as an exact rational (x > 0)."""
    if not x > 0:
        raise ValueError("power_of_two_below needs x > 0")
    k = int(np.floor(np.log2(x)))
    q = to_q(2) ** k if k >= 0 else ONE / to_q(2) ** (-k)
    while float(q) > x:
        q = q / 2
    return q


def best_direction(points_f: np.ndarray, candidates: Sequence[tuple]) -> tuple[tuple, float]:
    """Candidate u maximising the smallest gap between distinct projections (normalised by |u|).

    ``points_f`` holds the *distinct* relevant values (float64); returns (u, gap in <u, .> units).
    """
    best, best_score, best_gap = candidates[0], -1.0, 0.0
    for u in candidates:
        uf = to_float_array(np.array(u, dtype=object))
        p = np.sort(points_f @ uf)
        gap = float(np.min(np.diff(p))) if len(p) > 1 else np.inf
        score = gap / float(np.linalg.norm(uf))
        if score > best_score:
            best, best_score, best_gap = u, score, gap
    return best, best_gap
