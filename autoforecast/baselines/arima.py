"""ARIMA per target series (statsmodels), fitted once, forecast from many origins by filtering.

Each target is modelled alone on the training and validation parts of its own column; the other
columns (exogenous series) are not used. The order is fixed (``order``) or chosen per series:
the differencing ``d <= max_d`` by repeated KPSS tests (as auto-ARIMA does; AIC values of
different ``d`` are not comparable), then ``p <= max_p`` and ``q <= max_q`` by AIC. A fit that
raises or warns that it did not converge is rejected; a fixed order then falls back to the next
simpler one. Every rejection is kept in ``fallbacks_``, never hidden.

Forecasts: the fitted parameters filter the new series once (Kalman filter); the predicted
state at each origin is carried ``horizon`` steps by the transition matrix, for all origins at
once. An origin's forecast uses every row of ``X`` before it, not only the last ``lookback``.
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.stattools import kpss

from ..base import BaseForecaster, check_positive_int

# statsmodels >= 0.15 warns unless told which return type kpss should give.
KPSS_KWARGS = {"result_object": False} if "result_object" in inspect.signature(kpss).parameters else {}


@dataclass
class SeriesFit:
    order: tuple  # (p, d, q) used
    params: np.ndarray
    aic: float
    fallbacks: list = field(default_factory=list)  # {"order", "reason"} of rejected fits
    warnings: list = field(default_factory=list)  # other messages statsmodels gave


def _trend(order) -> str:
    return "c" if order[1] == 0 else "n"


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with statsmodels' warnings caught: (result or None, error, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = fn(*args, **kwargs), None
        except Exception as err:  # noqa: BLE001 - any failure of a fit is recorded, not raised
            result, error = None, f"{type(err).__name__}: {err}"
    return result, error, caught


def try_fit(z: np.ndarray, order: tuple):
    """Fit ARIMA(order) to ``z``; (results, None, messages) or (None, reason, messages)."""
    res, error, caught = _quiet(lambda: ARIMA(z, order=order, trend=_trend(order)).fit())
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    converge = [m for m in messages if m.startswith(ConvergenceWarning.__name__)]
    if error is None and converge:
        error = converge[0]
    if error is None and not (np.isfinite(res.params).all() and np.isfinite(res.aic)):
        error = "non-finite parameters or AIC"
    return (None if error else res), error, [m for m in messages if m not in converge]


def choose_d(z: np.ndarray, max_d: int) -> tuple[int, list]:
    """Smallest d <= max_d whose d-th difference KPSS does not reject (5%) as stationary."""
    d, messages = 0, []
    while d < max_d:
        diffed = np.diff(z, n=d)
        if len(diffed) < 10 or np.ptp(diffed) == 0:
            break
        out, error, caught = _quiet(kpss, diffed, regression="c", nlags="auto", **KPSS_KWARGS)
        messages += [f"{w.category.__name__}: {w.message}" for w in caught]
        if error is not None:  # recorded: d stops growing where the test cannot run
            messages.append(f"KPSS test at d={d} failed ({error}); d kept at {d}")
            break
        if out[1] >= 0.05:
            break
        d += 1
    return d, messages


def simpler_orders(order: tuple) -> list[tuple]:
    """Orders below ``order`` (elementwise), most complex first: keep d, shrink p + q, then d."""
    p, d, q = order
    lower = [o for o in itertools.product(range(p + 1), range(d + 1), range(q + 1)) if o != order]
    return sorted(lower, key=lambda o: (-o[1], -(o[0] + o[2]), -o[0]))


def fit_series(z: np.ndarray, order, max_p: int, max_d: int, max_q: int) -> SeriesFit:
    """Fit one series: a fixed order with fallbacks, or the AIC-best order of the grid."""
    messages = []
    if order is None:
        d, messages = choose_d(z, max_d)
        grid = [(p, d, q) for p in range(max_p + 1) for q in range(max_q + 1)]
        fallback_chain = simpler_orders((0, d, 0))
    else:
        grid, fallback_chain = [tuple(order)], simpler_orders(tuple(order))
    fits, rejected = [], []
    for candidates in (grid, fallback_chain):
        for cand in candidates:
            res, reason, extra = try_fit(z, cand)
            messages += extra
            if res is None:
                rejected.append({"order": cand, "reason": reason})
            else:
                fits.append((res.aic, cand, res.params))
        if fits:
            break
    if not fits:
        raise ValueError(
            f"every ARIMA fit of this series failed, down to order (0, 0, 0): {rejected}. "
            "Check the target column for a constant or degenerate series."
        )
    aic, best, params = min(fits, key=lambda f: f[0])
    return SeriesFit(best, np.asarray(params), float(aic), rejected, sorted(set(messages)))


def _fit_named(z, name, order, max_p, max_d, max_q) -> SeriesFit:
    try:
        return fit_series(z, order, max_p, max_d, max_q)
    except ValueError as err:
        raise ValueError(f"target {name!r}: {err}") from err


def forecast_series(z: np.ndarray, fit: SeriesFit, origins: np.ndarray, horizon: int):
    """Forecasts (n_origins, horizon) from each origin, given all of ``z`` before it."""
    model = ARIMA(z, order=fit.order, trend=_trend(fit.order))
    res, error, _ = _quiet(model.filter, fit.params)
    if error:
        raise RuntimeError(f"filtering with the fitted ARIMA{fit.order} failed: {error}")
    fr = res.filter_results
    state = fr.predicted_state[:, origins]  # (k_states, n_origins): state at t given rows < t
    transition, design = fr.transition[:, :, 0], fr.design[:, :, 0]
    state_c, obs_c = fr.state_intercept[:, -1:], fr.obs_intercept[0, -1]  # constant in time
    out = np.empty((len(origins), horizon))
    for h in range(horizon):
        out[:, h] = (design @ state)[0] + obs_c
        state = transition @ state + state_c
    return out


class ARIMAForecaster(BaseForecaster):
    """Univariate ARIMA for each target, order fixed or chosen per series; fits run in parallel.

    ``order``: a fixed ``(p, d, q)``, or None to choose it within ``max_p``, ``max_d``,
    ``max_q``. A constant is estimated when ``d == 0``. ``n_jobs``: joblib workers over series.
    ``lookback``: the fewest rows ``predict(X)`` needs; ``predict()`` without ``X`` filters the
    last ``lookback`` rows of the fit data, so keep it well above the model's memory.

    Fitted: ``orders_``, ``params_``, ``aic_``, ``fallbacks_`` (rejected fits per series, each
    ``{"order", "reason"}``), ``fit_warnings_`` (other statsmodels messages per series).
    """

    def __init__(self, lookback=50, horizon=1, order=None, max_p=2, max_d=1, max_q=2,
                 target=None, validation_size=0.0, test_size=0.0, missing="raise", n_jobs=None):
        self.lookback = lookback
        self.horizon = horizon
        self.order = order
        self.max_p = max_p
        self.max_d = max_d
        self.max_q = max_q
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.n_jobs = n_jobs

    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        for name in ("max_p", "max_d", "max_q"):
            check_positive_int(getattr(self, name), name, minimum=0)
        if self.order is not None:
            order = self.order
            if not (isinstance(order, (tuple, list)) and len(order) == 3 and all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
                    for v in order)):
                raise ValueError(f"`order` must be None or (p, d, q), three ints >= 0, got "
                                 f"{order!r}.")
        return lookback

    def _fit_scaled(self, Z, split) -> None:
        history = Z[: split.val_end]  # training + validation parts
        fits = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_named)(history[:, j], name, self.order, self.max_p, self.max_d,
                                self.max_q)
            for j, name in zip(self.target_idx_, self.target_names_))
        self.fits_ = fits
        self.orders_ = [f.order for f in fits]
        self.params_ = [f.params for f in fits]
        self.aic_ = np.array([f.aic for f in fits])
        self.fallbacks_ = [f.fallbacks for f in fits]
        self.fit_warnings_ = [f.warnings for f in fits]

    def _forecast_scaled(self, Z, origins):
        per_target = [forecast_series(Z[:, j], fit, origins, self.horizon)
                      for j, fit in zip(self.target_idx_, self.fits_)]
        return np.stack(per_target, axis=-1)  # (n_origins, horizon, n_targets)
