"""Forward decay: exponentially decayed usage with no periodic decay job.

Usage charged at time ``t`` is stored multiplied by ``2^((t - epoch) / H)`` (``H`` the half-life),
so an accumulator ``g`` only ever grows by addition, which one atomic ``UPDATE ... SET g = g + :w``
can do under concurrency. The decayed usage at ``now`` is ``g · 2^((epoch - now) / H)``; every row
sharing an epoch shares that factor, so ordering by ``g`` is ordering by decayed usage.

The weights grow without bound, so a row is *renormalised* (rebased to a later epoch: ``g`` scaled
down by the same factor) when the exponent passes :data:`REBASE_EXPONENT`; float64 then never comes
near overflow (2^1023). Rows may carry different epochs: readers convert with :func:`decayed`.
``2^(x/H)`` is ``e^(x/τ)`` with ``τ = H / ln 2``; half-lives are easier to configure.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Default half-life: 7 days (Slurm's default PriorityDecayHalfLife).
DEFAULT_HALF_LIFE_S = 7 * 24 * 3600.0
#: Rebase a row once its weights exceed 2^REBASE_EXPONENT (about 6 years at the default half-life).
REBASE_EXPONENT = 64.0


def weight(t: float, epoch: float, half_life: float) -> float:
    """The factor a charge made at ``t`` is stored with, relative to ``epoch``."""
    return 2.0 ** ((t - epoch) / half_life)


def decayed(g: float, epoch: float, now: float, half_life: float) -> float:
    """Decayed usage (seconds at ``now``) of an accumulator ``g`` kept relative to ``epoch``."""
    if g == 0.0:
        return 0.0
    return g * 2.0 ** ((epoch - now) / half_life)


@dataclass(frozen=True, slots=True)
class Accrual:
    """How to update one stored row: ``g := g · scale + seconds · weight``, ``epoch := epoch``."""

    scale: float
    weight: float
    epoch: float


def accrue(epoch: float, t: float, half_life: float) -> Accrual:
    """How to add a charge made at ``t`` to a row kept relative to ``epoch``.

    Normally only the added term changes the row (``scale`` is 1). When the charge's weight would pass
    2^REBASE_EXPONENT the row is rebased to ``t`` in the same update: ``g`` is scaled down by the
    weight and the charge is added at weight 1.
    The same accrual serves every quantity kept in the row (seconds, counts).
    """
    exponent = (t - epoch) / half_life
    if exponent > REBASE_EXPONENT:
        return Accrual(scale=2.0 ** (-exponent), weight=1.0, epoch=t)
    return Accrual(scale=1.0, weight=2.0**exponent, epoch=epoch)
