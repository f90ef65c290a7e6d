"""The snap (ours): ONE feed-forward layer that turns the softmax clustering's balls back into exact points.

After the softmax clustering layer every token is only *within δ* of its leader point (a ball of
radius ≤ δ around it, by the temperature lemma). The snap FF quantises each coordinate: for each
value c that a leader point takes on axis k, four ReLUs make ``g(x_k) = c`` on [c - b_k, c + b_k]
and the identity off [c - a_k, c + a_k] (δ < b_k < a_k ≤ gap_k / 4). A ball of radius < b_k lies
in a flat part, so the token becomes the exact rational leader point again. The variant
:func:`snap_onto_targets` lands each cluster directly on its target (no interpolation step after it).
"""

from __future__ import annotations

from typing import Any

from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO
from ..errors import ConstructionError
from .build import Build, Leader, Step
from .primitives import Neuron, clustering_sa, constant_neuron, ff_from_neurons, power_of_two_below, snap_neurons

__all__ = ["SnapPlan", "snap_plan", "leader_snap_plan", "snap", "snap_onto_targets", "target_snap_ff"]


class SnapPlan:
    """Per-axis coordinate values c with flat half-width b and support half-width a (δ < b < a)."""

    def __init__(self, values: list[list[Any]], a: list[Any], b: list[Any]) -> None:
        self.values, self.a, self.b = values, a, b

    @property
    def width(self) -> int:
        """Hidden width of the snap FF (4 ReLUs per coordinate value)."""
        return 4 * sum(len(v) for v in self.values)

    def ff(self, d: int) -> FeedForward:
        """The snap FF layer ``x + Σ (4-ReLU pieces)``."""
        neurons = [n for k in range(d) for c in self.values[k] for n in snap_neurons(d, k, c, self.a[k], self.b[k])]
        return ff_from_neurons(d, neurons)


def snap_plan(points: list[tuple]) -> SnapPlan:
    """Coordinate values of ``points`` on every axis; a_k = largest 2^-j ≤ gap_k / 4, b_k = a_k / 2."""
    values, a, b = [], [], []
    for k in range(len(points[0])):
        vals = sorted({p[k] for p in points})
        gaps = [vals[i + 1] - vals[i] for i in range(len(vals) - 1)]
        ak = power_of_two_below(float(min(gaps)) / 4) if gaps else ONE
        while gaps and 4 * ak > min(gaps):
            ak = ak / 2
        values.append(vals)
        a.append(ak)
        b.append(ak / 2)
    return SnapPlan(values, a, b)


def leader_snap_plan(b: Build) -> SnapPlan:
    """The snap plan of the build's leader points."""
    return snap_plan(sorted({tuple(ld.position) for ld in b.leaders}))


def _check_radius(b: Build, plan: SnapPlan) -> None:
    if not float(b.state.R.max(initial=0.0)) < float(min(plan.b)):
        raise ConstructionError("enclosure radius after clustering exceeds the snap's flat half-width")


def snap(b: Build) -> Step:
    """One FF landing every ball exactly on its leader point (the hardmax clustered configuration)."""
    plan = leader_snap_plan(b)
    _check_radius(b, plan)
    hard = clustering_sa(b.d, ZERO).apply(b.before("clustering"))  # the exact clustered configuration
    if {tuple(r) for r in hard.E} != {tuple(ld.position) for ld in b.leaders}:
        raise ConstructionError("not supported by this construction: hardmax clustering missed a leader point")
    step = b.add("snap", [plan.ff(b.d)])
    E = step.state.E
    if not step.state.is_exact or any(not (E[i, k] == hard.E[i, k]) for i in range(len(E)) for k in range(b.d)):
        raise ConstructionError("the snap did not land every token on its leader point")  # pragma: no cover
    return step


def target_snap_ff(plan: SnapPlan, leaders: list[Leader], d: int) -> FeedForward:
    """ONE FF (η = 0) that snaps AND interpolates (ours).

    Coordinate k becomes the continuous piecewise-linear map equal to the leader's target
    coordinate on [c - b_k, c + b_k] for every leader coordinate value c, linear in between
    (leader coordinates are distinct per axis).
    """
    neurons: list[Neuron] = []
    first = []
    for k in range(d):
        to_target: dict = {}
        for ld in leaders:
            c, y = ld.position[k], ld.target[k]
            if to_target.setdefault(c, y) != y:
                raise ConstructionError("not supported by this construction: two leaders share a coordinate value")
        vals, bk = plan.values[k], plan.b[k]
        ys = [to_target[c] for c in vals]
        first.append(ys[0])
        e = tuple(ONE if i == k else ZERO for i in range(d))
        for r in range(len(vals) - 1):
            slope = (ys[r + 1] - ys[r]) / (vals[r + 1] - vals[r] - 2 * bk)
            if slope != 0:
                neurons.append(Neuron(e, -(vals[r] + bk), tuple(slope * v for v in e)))
                neurons.append(Neuron(e, -(vals[r + 1] - bk), tuple(-slope * v for v in e)))
    neurons.append(constant_neuron(first))
    return ff_from_neurons(d, neurons, eta=ZERO)


def snap_onto_targets(b: Build) -> Step:
    """One FF (:func:`target_snap_ff`) landing every token exactly on its target."""
    plan = leader_snap_plan(b)
    _check_radius(b, plan)
    ff = target_snap_ff(plan, b.leaders, b.d)
    b.info.setdefault("softmax", {})["snap_width"] = ff.width
    step = b.add("snap", [ff])
    if not step.state.is_exact:  # pragma: no cover - guarded by the radius check
        raise ConstructionError("the snap did not land every token on an exact point")
    return step
