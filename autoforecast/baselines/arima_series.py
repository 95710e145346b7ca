"""Fitting one series: a constant, a fixed order (with simpler fallbacks) or the search.

:func:`fit_series` returns the fields of :class:`autoforecast.baselines.arima.SeriesFit`.
"""

from __future__ import annotations

import itertools

import numpy as np

from .arima_fits import Candidate, Spec, fit_spec
from .arima_search import Limits, is_constant, search

MIN_ROWS = 4
CONSTANT_VARIANCE = 1e-12  # the innovation variance given to a constant series' model


def simpler_orders(order: tuple) -> list[tuple]:
    """Orders below ``order`` (elementwise), most complex first: keep d, shrink p + q, then d."""
    p, d, q = order
    lower = [o for o in itertools.product(range(p + 1), range(d + 1), range(q + 1)) if o != order]
    return sorted(lower, key=lambda o: (-o[1], -(o[0] + o[2]), -o[0]))


def _rejected(cand: Candidate) -> dict:
    return {"order": cand.spec.order, "seasonal_order": cand.spec.seasonal_order,
            "reason": cand.reason}


def _fields(best: Candidate, method: str, rejected: list, messages: list, trace=None) -> dict:
    return dict(order=best.spec.order, params=np.asarray(best.params), aic=float(best.aic),
                fallbacks=rejected, warnings=sorted(set(messages)),
                seasonal_order=best.spec.seasonal_order, trend=best.spec.trend,
                aicc=float(best.aicc), method=method, search_trace=trace)


def constant_fit(z: np.ndarray) -> dict:
    """A mean-only model forecasting the constant value, recorded as a fallback."""
    spec = Spec(0, 0, 0, constant=True)
    params = np.array([float(z[-1]), CONSTANT_VARIANCE])
    note = {"order": None, "reason": f"constant series (value {z[-1]:.6g}): no ARIMA fitted; "
                                     "forecasts the constant"}
    return _fields(Candidate(spec, params, np.nan, np.nan), "constant", [note], [])


def fit_fixed(z: np.ndarray, order: tuple, seasonal_order, method: str) -> dict:
    """``order`` (with a mean when d + D = 0); if it fails, the AIC-best simpler order that
    fits (version 0.1's rule). Every rejection is kept."""
    P, D, Q, m = seasonal_order or (0, 0, 0, 0)
    m = m if (P or D or Q) else 1
    specs = [Spec(*o, P, D, Q, m, constant=o[1] + D == 0) for o in [order, *simpler_orders(order)]]
    rejected, messages, fits = [], [], []
    for group in (specs[:1], specs[1:]):
        for spec in group:
            cand = fit_spec(z, spec, method)
            messages += list(cand.messages)
            (fits if cand.ok else rejected).append(cand if cand.ok else _rejected(cand))
        if fits:
            break
    if not fits:
        raise ValueError(f"every ARIMA fit of this series failed, down to order (0, 0, 0): "
                         f"{rejected}. Check the target column for a degenerate series.")
    return _fields(min(fits, key=lambda c: c.aic), method, rejected, messages)


def fit_searched(z: np.ndarray, m: int, method: str, limits: dict) -> dict:
    """The stepwise search (:mod:`.arima_search`), then, for long series, a refit on all rows."""
    best, info = search(z, m, Limits(**limits), method)
    trace = info["trace"]
    rejected = [{"order": None, "reason": note} for note in info["notes"]]
    rejected += [{"order": t["order"], "seasonal_order": t["seasonal_order"],
                  "reason": t["failed"]} for t in trace if t["failed"]]
    if best is None:
        reasons = sorted({t["failed"] for t in trace})[:5]
        raise ValueError(f"every one of the {len(trace)} ARIMA fits of the search failed "
                         f"({'; '.join(reasons)}). Check the target column for a degenerate "
                         "series, or pass a fixed `order`.")
    messages = [m for t in [best] for m in t.messages]
    if info["rows"] < len(z):
        final = fit_spec(z, best.spec, method)
        trace.append({**final.record(method), "rows": len(z)})
        messages += list(final.messages)
        if final.ok:
            best = final
        else:
            rejected.append({**_rejected(final), "reason": f"refit on all {len(z)} rows failed "
                             f"({final.reason}); the fit on the last {info['rows']} rows is used"})
    return _fields(best, method, rejected, messages, trace)


def fit_series(z: np.ndarray, order, seasonal_order, m: int, method: str, limits: dict) -> dict:
    """The fields of a ``SeriesFit`` for the series ``z`` (standardised)."""
    if len(z) < MIN_ROWS:
        raise ValueError(f"ARIMA needs at least {MIN_ROWS} rows of training and validation data "
                         f"per target, got {len(z)}. Pass a longer series.")
    if not np.isfinite(z).all():
        raise ValueError("ARIMA got missing or infinite values; set `missing` (e.g. "
                         "missing='interpolate') to fill them.")
    if is_constant(z):
        return constant_fit(z)
    if order is not None:
        return fit_fixed(z, order, seasonal_order, method)
    return fit_searched(z, m, method, limits)
