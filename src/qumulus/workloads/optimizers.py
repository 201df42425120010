"""The classical optimizers of an ``optimization`` job.

Every method the ``ionq`` package lists except SPSA is a ``scipy.optimize.minimize`` method and runs
through SciPy (a maintained, well-tested implementation; SciPy is already a dependency of qiskit).
Gradient methods get SciPy's finite differences; those that insist on a callable Jacobian
(``Newton-CG``) or Hessian (``dogleg``, ``trust-ncg``, ``trust-exact``, ``trust-krylov``) get central
differences with step ``options["fd_step"]`` (default 1e-2, large enough to see past shot noise).

SPSA is not in SciPy, and the maintained implementations live inside frameworks this server does
not depend on (``qiskit_algorithms``, now archived upstream; ``noisyopt``): it is implemented here,
in twenty lines, as Spall's textbook algorithm (IEEE TAES 34(3), 1998, with his recommended gains
α = 0.602, γ = 0.101): per iteration ``k`` one random ±1 direction ``Δ``, two evaluations at
``x ± c_k Δ``, the gradient estimate ``(f₊ − f₋)/(2 c_k) Δ`` and the step ``a_k`` times it, with
``a_k = a/(k + 1 + A)^α`` and ``c_k = c/(k + 1)^γ``. Options: ``learning_rate`` (a, default 0.2),
``perturbation`` (c, 0.1), ``stability`` (A, 0), ``alpha``, ``gamma``, ``seed``.

Everything is deterministic given the function's values (SPSA draws from a seeded generator), which
is what lets a resumed workload replay its recorded evaluations and land where it stopped.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCIPY_METHODS = (
    "Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA", "COBYQA",
    "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact", "trust-krylov",
)  # fmt: skip
METHODS = ("SPSA", *SCIPY_METHODS)
_NEEDS_JAC = frozenset({"Newton-CG", "dogleg", "trust-ncg", "trust-exact", "trust-krylov"})
_NEEDS_HESS = frozenset({"dogleg", "trust-ncg", "trust-exact", "trust-krylov"})
#: Options this module reads itself (not passed to SciPy).
OWN_OPTIONS = frozenset({"fd_step", "seed"})
SPSA_OPTIONS = frozenset({"learning_rate", "perturbation", "stability", "alpha", "gamma", "seed"})


class Stop(Exception):
    """Raised by the objective to end the optimization now (cancel, budget, evaluation cap)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    x: list[float]
    fun: float
    message: str


def minimize(
    fun: Callable[[list[float]], float],
    x0: Sequence[float],
    method: str,
    *,
    maxiter: int,
    options: Mapping[str, Any] | None = None,
) -> Outcome:
    """Minimise ``fun`` from ``x0``; :class:`Stop` raised by ``fun`` propagates."""
    options = dict(options or {})
    if method == "SPSA":
        return _spsa(fun, list(x0), maxiter, options)
    import numpy as np
    from scipy.optimize import minimize as scipy_minimize

    step = float(options.pop("fd_step", 1e-2))
    options.pop("seed", None)
    options["maxiter"] = maxiter

    def f(x: Any) -> float:
        return fun([float(v) for v in np.atleast_1d(x)])

    def jac(x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        g = np.zeros_like(x)
        for i in range(len(x)):
            e = np.zeros_like(x)
            e[i] = step
            g[i] = (f(x + e) - f(x - e)) / (2 * step)
        return g

    def hess(x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        h = np.zeros((len(x), len(x)))
        for i in range(len(x)):
            e = np.zeros_like(x)
            e[i] = step
            h[i] = (jac(x + e) - jac(x - e)) / (2 * step)
        return (h + h.T) / 2

    kwargs: dict[str, Any] = {}
    if method in _NEEDS_JAC:
        kwargs["jac"] = jac
    if method in _NEEDS_HESS:
        kwargs["hess"] = hess
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scipy_minimize(f, np.asarray(x0, dtype=float), method=method, options=options, **kwargs)
    return Outcome([float(v) for v in np.atleast_1d(result.x)], float(result.fun), str(result.message))


def _spsa(
    fun: Callable[[list[float]], float], x: list[float], maxiter: int, options: dict[str, Any]
) -> Outcome:
    import numpy as np

    a = float(options.get("learning_rate", 0.2))
    c = float(options.get("perturbation", 0.1))
    big_a = float(options.get("stability", 0.0))
    alpha = float(options.get("alpha", 0.602))
    gamma = float(options.get("gamma", 0.101))
    rng = np.random.default_rng(int(options.get("seed", 0)))
    best_x, best_f = list(x), math.inf
    for k in range(maxiter):
        ak = a / (k + 1 + big_a) ** alpha
        ck = c / (k + 1) ** gamma
        delta = rng.choice((-1.0, 1.0), size=len(x))
        plus = [xi + ck * d for xi, d in zip(x, delta, strict=True)]
        minus = [xi - ck * d for xi, d in zip(x, delta, strict=True)]
        f_plus, f_minus = fun(plus), fun(minus)
        for point, value in ((plus, f_plus), (minus, f_minus)):
            if value < best_f:
                best_x, best_f = point, value
        slope = (f_plus - f_minus) / (2 * ck)
        x = [xi - ak * slope * d for xi, d in zip(x, delta, strict=True)]
    return Outcome(best_x, best_f, f"SPSA: {maxiter} iterations")
