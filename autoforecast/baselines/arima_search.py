"""Automatic ARIMA order selection in the style of Hyndman and Khandakar (2008), R's auto.arima.

For one series, given the seasonal period ``m``:

1. ``D`` (0 or 1) by the seasonal-strength test (R's ``nsdiffs(test="seas")``): STL's seasonal
   strength ``1 - var(remainder) / var(remainder + seasonal)`` above 0.64;
2. ``d <= max_d`` by repeated KPSS tests at 5 % on the seasonally differenced series (R's
   ``ndiffs``: level stationarity, ``trunc(4 (n / 100)^(1/4))`` lags);
3. a stepwise search by AICc: the four start models (2,d,2)(1,D,1), (0,d,0)(0,D,0),
   (1,d,0)(1,D,0), (0,d,1)(0,D,1) (the seasonal parts only when ``m > 1``), each with a constant
   when ``d + D <= 1`` (a mean at 0, a drift at 1), and (0,d,0)(0,D,0) without; then, from the
   best, every neighbour that changes ``p``, ``q``, ``P`` or ``Q`` by one (alone, or ``p`` with
   ``q``, ``P`` with ``Q``) or toggles the constant, moving to the first improvement, until
   none improves (or ``max_models`` fits), within ``p, q <= max_p, max_q`` and
   ``P, Q <= max_P, max_Q`` (as in R, ``p + q + P + Q`` is not bounded in a stepwise search).

Every fit, failed or not, is in the returned trace. Long series: the tests and the search run
on the last ``search_rows(m) = max(2000, 20 m)`` rows; the chosen model is then refitted on all.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace

import numpy as np
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import kpss

from .arima_fits import Candidate, Spec, difference, fit_spec, quiet

# statsmodels >= 0.15 warns unless told which return type kpss should give.
KPSS_KWARGS = ({"result_object": False} if "result_object" in inspect.signature(kpss).parameters
               else {})
SEASONAL_STRENGTH = 0.64  # R's nsdiffs(test="seas") threshold


@dataclass(frozen=True)
class Limits:
    """The search's bounds (R's auto.arima defaults)."""

    max_p: int = 5
    max_d: int = 2
    max_q: int = 5
    max_P: int = 2
    max_D: int = 1
    max_Q: int = 2
    max_models: int = 94


def search_rows(m: int) -> int:
    """Rows the tests and the search look at: the last ``max(2000, 20 m)``."""
    return max(2000, 20 * m)


def is_constant(z: np.ndarray) -> bool:
    return len(z) == 0 or float(np.ptp(z)) <= 1e-12 * max(1.0, float(np.abs(z).max()))


def seasonal_strength(z: np.ndarray, m: int) -> float:
    """STL seasonal strength in [0, 1] (Wang, Smith and Hyndman, 2006)."""
    fit = STL(z, period=m, seasonal=11 if m > 1 else 7).fit()
    remainder, season = fit.resid, fit.seasonal
    total = np.var(remainder + season)
    return float(np.clip(1 - np.var(remainder) / total, 0, 1)) if total > 0 else 0.0


def choose_D(z: np.ndarray, m: int, max_D: int, notes: list) -> int:
    """0 or 1 (``max_D`` permitting): 1 when the seasonal strength is above 0.64."""
    if m <= 1 or max_D < 1 or is_constant(z):
        return 0
    if len(z) < 2 * m + 1:
        notes.append(f"seasonal difference not tested: {len(z)} rows, fewer than 2 m + 1 = "
                     f"{2 * m + 1}")
        return 0
    strength, error, _ = quiet(seasonal_strength, z, m)
    if error:
        notes.append(f"seasonal-strength test failed ({error}); D = 0")
        return 0
    return int(strength > SEASONAL_STRENGTH and not is_constant(difference(z, 0, 1, m)))


def kpss_rejects(z: np.ndarray) -> bool | str:
    """True when KPSS rejects level stationarity at 5 %; an error message when it cannot run."""
    lags = int(4 * (len(z) / 100) ** 0.25)
    out, error, _ = quiet(kpss, z, regression="c", nlags=lags, **KPSS_KWARGS)
    return error if error else bool(out[0] > out[3]["5%"])


def choose_d(z: np.ndarray, max_d: int, notes: list) -> int:
    """Smallest ``d <= max_d`` whose ``d``-th difference KPSS does not reject."""
    d = 0
    while d < max_d:
        diffed = np.diff(z, n=d)
        if len(diffed) < 10 or is_constant(diffed):
            break
        rejects = kpss_rejects(diffed)
        if isinstance(rejects, str):  # recorded: d stops growing where the test cannot run
            notes.append(f"KPSS test at d={d} failed ({rejects}); d kept at {d}")
            break
        if not rejects:
            break
        d += 1
    return d


def _allowed(spec: Spec, limits: Limits) -> bool:
    return (0 <= spec.p <= limits.max_p and 0 <= spec.q <= limits.max_q
            and 0 <= spec.P <= (limits.max_P if spec.m > 1 else 0)
            and 0 <= spec.Q <= (limits.max_Q if spec.m > 1 else 0)
            and (not spec.constant or spec.d + spec.D <= 1))


def start_specs(d: int, D: int, m: int, limits: Limits) -> list[Spec]:
    """Hyndman-Khandakar's start models, in R's order."""
    seasonal = m > 1
    constant = d + D <= 1
    base = Spec(0, d, 0, 0, D, 0, m, constant)
    specs = [base.with_(p=min(2, limits.max_p), q=min(2, limits.max_q),
                        P=min(1, limits.max_P) * seasonal, Q=min(1, limits.max_Q) * seasonal),
             base,
             base.with_(p=int(limits.max_p > 0), P=int(seasonal and limits.max_P > 0)),
             base.with_(q=int(limits.max_q > 0), Q=int(seasonal and limits.max_Q > 0))]
    if constant:
        specs.append(base.with_(constant=False))
    return specs


def neighbours(spec: Spec) -> list[Spec]:
    """R's stepwise moves from ``spec``, in R's order."""
    moves = [dict(P=-1), dict(Q=-1), dict(P=1), dict(Q=1), dict(P=-1, Q=-1), dict(P=-1, Q=1),
             dict(P=1, Q=-1), dict(P=1, Q=1), dict(p=-1), dict(q=-1), dict(p=1), dict(q=1),
             dict(p=-1, q=-1), dict(p=-1, q=1), dict(p=1, q=-1), dict(p=1, q=1)]
    out = [spec.with_(**{k: getattr(spec, k) + v for k, v in move.items()}) for move in moves]
    return out + [spec.with_(constant=not spec.constant)]


def stepwise(z: np.ndarray, d: int, D: int, m: int, limits: Limits, method: str,
             trace: list) -> Candidate | None:
    """The stepwise search on ``z``; every fit is appended to ``trace``. The best, or None."""
    fitted: dict[Spec, Candidate] = {}

    def try_spec(spec: Spec) -> Candidate:
        if spec not in fitted:
            fitted[spec] = fit_spec(z, spec, method)
            trace.append(fitted[spec].record(method))
        return fitted[spec]

    best = None
    for spec in start_specs(d, D, m, limits):
        if _allowed(spec, limits):
            cand = try_spec(spec)
            if cand.ok and (best is None or cand.aicc < best.aicc):
                best = cand
    improved = best is not None
    while improved and len(fitted) < limits.max_models:
        improved = False
        for spec in neighbours(best.spec):
            if spec in fitted or not _allowed(spec, limits):
                continue
            if len(fitted) >= limits.max_models:
                break
            cand = try_spec(spec)
            if cand.ok and cand.aicc < best.aicc:
                best, improved = cand, True
                break
    return best


def search(z: np.ndarray, m: int, limits: Limits, method: str) -> tuple[Candidate | None, dict]:
    """Choose ``D``, ``d`` and the orders on the last ``search_rows(m)`` rows of ``z``.

    Returns (the best fit on those rows or None, {"D", "d", "rows", "trace", "notes"})."""
    window = z[-search_rows(m):]
    notes: list = []
    n = len(window)  # R's caps for short series
    limits = replace(limits, max_p=min(limits.max_p, n // 3), max_q=min(limits.max_q, n // 3),
                     max_P=min(limits.max_P, n // (3 * m)), max_Q=min(limits.max_Q, n // (3 * m)))
    if m > 1 and limits.max_P == limits.max_Q == 0:
        notes.append(f"{n} rows are fewer than 3 seasons (m = {m}): no seasonal AR or MA terms")
    D = choose_D(window, m, limits.max_D, notes)
    d = choose_d(difference(window, 0, D, m), limits.max_d, notes)
    trace: list = []
    best = stepwise(window, d, D, m, limits, method, trace)
    return best, {"D": D, "d": d, "rows": len(window), "trace": trace, "notes": notes}
