"""One ARIMA(p, d, q)(P, D, Q)_m fit of one series, by conditional sum of squares or exact ML.

A :class:`Spec` names the model (orders, period, whether a constant or drift is estimated);
:func:`fit_spec` fits it by one of ``FITTERS`` and returns a :class:`Candidate`: the parameters in
statsmodels' ``ARIMA`` layout (so that ``ARIMA(...).filter(params)`` forecasts with them), the
information criteria, and the reason it failed (``None`` when it did not).

- ``"css"``: conditional sum of squares, as R's ``arima(method="CSS")``: the differenced series'
  ARMA residuals by ``scipy.signal.lfilter`` (the first ``p + P m`` residuals are conditioned
  on), minimised by BFGS from zero coefficients and the mean. Its AIC is R's for CSS fits
  (``n log(sigma2) + 2 k`` over the differenced series' ``n`` rows), comparable between
  models of the same ``d`` and ``D`` only, which is how the search uses it.
- ``"ml"``: exact Gaussian likelihood by statsmodels' ``ARIMA(...).fit()`` (state space).

A fit is rejected (with its reason) when it raises, does not converge, gives non-finite values,
or, for CSS, a non-stationary AR or non-invertible MA part (a root of modulus below 1.01, as
R's ``auto.arima`` checks), except that complex AR roots on the unit circle are accepted: a
sampled sinusoid is exactly such an AR(2), which auto.arima cannot fit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.signal import lfilter
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA

ROOT_MARGIN = 1.01  # the smallest root modulus accepted for the AR and MA polynomials
CYCLE_MIN = 0.999  # complex AR roots in [CYCLE_MIN, ROOT_MARGIN): a sinusoid, accepted


@dataclass(frozen=True)
class Spec:
    """An ARIMA(p, d, q)(P, D, Q)_m model; ``constant``: a mean (d + D = 0) or a drift (= 1)."""

    p: int
    d: int
    q: int
    P: int = 0
    D: int = 0
    Q: int = 0
    m: int = 1
    constant: bool = False

    @property
    def order(self) -> tuple:
        return (self.p, self.d, self.q)

    @property
    def seasonal_order(self) -> tuple:
        return (self.P, self.D, self.Q, self.m) if self.m > 1 else (0, 0, 0, 0)

    @property
    def trend(self) -> str:
        """statsmodels' trend: "c" a mean, "t" a linear trend (drift once differenced)."""
        if not self.constant:
            return "n"
        return "c" if self.d + self.D == 0 else "t"

    def n_coefficients(self) -> int:
        return self.p + self.q + self.P + self.Q + int(self.constant)

    def label(self) -> str:
        text = f"ARIMA({self.p},{self.d},{self.q})"
        if self.m > 1:
            text += f"({self.P},{self.D},{self.Q})[{self.m}]"
        return text + {"n": "", "c": " with mean", "t": " with drift"}[self.trend]

    def with_(self, **changes) -> "Spec":
        return replace(self, **changes)


@dataclass
class Candidate:
    """A fitted (or failed) :class:`Spec`: statsmodels-layout params and criteria."""

    spec: Spec
    params: np.ndarray | None = None
    aic: float = np.inf
    aicc: float = np.inf
    reason: str | None = None  # why the fit was rejected; None when accepted
    messages: tuple = ()  # other warnings the fit gave

    @property
    def ok(self) -> bool:
        return self.reason is None

    def record(self, method: str) -> dict:
        """The search trace's entry for this fit."""
        return {"order": self.spec.order, "seasonal_order": self.spec.seasonal_order,
                "trend": self.spec.trend, "method": method,
                "aicc": float(self.aicc) if self.ok else None, "failed": self.reason}


def difference(z: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """``(1 - B)^d (1 - B^m)^D z``."""
    for _ in range(D):
        z = z[m:] - z[:-m]
    return np.diff(z, n=d) if d else z


def lag_polynomial(coefs, lag: int, sign: float) -> np.ndarray:
    """``1 + sign * (c_1 B^lag + c_2 B^(2 lag) + ...)`` as coefficients of B^0, B^1, ..."""
    poly = np.zeros(len(coefs) * lag + 1, dtype=np.result_type(coefs, float))
    poly[0] = 1.0
    poly[lag::lag] = sign * np.asarray(coefs)
    return poly


def _split(theta: np.ndarray, spec: Spec):
    """theta -> (mean, phi, theta_ma, Phi, Theta), in that order of ``theta``."""
    sizes = [int(spec.constant), spec.p, spec.q, spec.P, spec.Q]
    parts = np.split(theta, np.cumsum(sizes)[:-1])
    return (parts[0][0] if spec.constant else 0.0), *parts[1:]


def _polynomials(theta: np.ndarray, spec: Spec):
    mean, phi, ma, sphi, sma = _split(theta, spec)
    ar = np.convolve(lag_polynomial(phi, 1, -1.0), lag_polynomial(sphi, spec.m, -1.0))
    ma = np.convolve(lag_polynomial(ma, 1, 1.0), lag_polynomial(sma, spec.m, 1.0))
    return mean, ar, ma


def css_residuals(theta: np.ndarray, w: np.ndarray, spec: Spec) -> np.ndarray:
    """ARMA residuals of the differenced series ``w`` after the conditioned first rows."""
    mean, ar, ma = _polynomials(theta, spec)
    return lfilter(ar, ma, w - mean)[len(ar) - 1:]


def _roots(coefs, sign: float) -> np.ndarray:
    """Roots of ``1 + sign * sum c_i B^i`` (none without coefficients)."""
    coefs = np.trim_zeros(np.asarray(coefs, dtype=float), "b")
    return np.roots(np.r_[sign * coefs[::-1], 1.0]) if len(coefs) else np.zeros(0)


def _min_root(coefs, sign: float) -> float:
    roots = _roots(coefs, sign)
    return float(np.abs(roots).min()) if len(roots) else np.inf


def _ar_problem(coefs) -> str | None:
    """Why a non-seasonal AR part is rejected, or None. Complex roots on the unit circle (a
    sinusoid of any period, x_t = 2 cos(w) x_{t-1} - x_{t-2}) are accepted: such a model is
    filtered from a diffuse start; real unit roots are left to differencing (``d``)."""
    roots = _roots(coefs, -1.0)
    near = roots[np.abs(roots) < ROOT_MARGIN]
    if not len(near):
        return None
    if np.abs(near).min() < CYCLE_MIN or np.any(np.abs(near.imag) <= 1e-6 * np.abs(near)):
        return f"AR part not stationary (a root of modulus < {ROOT_MARGIN})"
    return None


def _check_roots(theta: np.ndarray, spec: Spec) -> str | None:
    _, phi, ma, sphi, sma = _split(theta, spec)
    if _ar_problem(phi):
        return _ar_problem(phi)
    if _min_root(sphi, -1.0) < ROOT_MARGIN:
        return f"seasonal AR part not stationary (a root of modulus < {ROOT_MARGIN})"
    for name, coefs in (("MA", ma), ("seasonal MA", sma)):
        if _min_root(coefs, 1.0) < ROOT_MARGIN:
            return f"{name} part not invertible (a root of modulus < {ROOT_MARGIN})"
    return None


def is_stationary(spec: Spec, params: np.ndarray) -> bool:
    """Whether the AR parts of statsmodels-layout ``params`` are stationary (with margin)."""
    start = int(spec.constant)
    phi = params[start:start + spec.p]
    sphi = params[start + spec.p + spec.q:start + spec.p + spec.q + spec.P]
    return min(_min_root(phi, -1.0), _min_root(sphi, -1.0)) >= ROOT_MARGIN


def _criteria(loglike_term: float, n: int, n_params: int) -> tuple[float, float]:
    """(AIC, AICc) from ``-2 log L`` (up to a constant), ``n`` rows and ``n_params``."""
    aic = loglike_term + 2 * n_params
    if n - n_params - 1 <= 0:
        return aic, np.inf
    return aic, aic + 2 * n_params * (n_params + 1) / (n - n_params - 1)


def fit_css(z: np.ndarray, spec: Spec) -> Candidate:
    """Conditional-sum-of-squares fit of ``spec`` to ``z``."""
    w = difference(z, spec.d, spec.D, spec.m)
    n_used = len(w) - spec.p - spec.P * spec.m
    n_params = spec.n_coefficients() + 1  # + sigma2
    if n_used < n_params + 2:
        return Candidate(spec, reason=f"too few rows: {n_used} usable residuals for "
                                      f"{n_params} parameters")
    start = np.zeros(spec.n_coefficients())
    if spec.constant:
        start[0] = w.mean()

    floor = 1e-12 * max(float(np.var(w)), 1e-300)  # an exact fit must not give log(0)

    def objective(theta):
        e = css_residuals(theta, w, spec)
        value = 0.5 * np.log(e @ e / n_used + floor)
        return value if np.isfinite(value) else 1e10

    with np.errstate(all="ignore"):
        result = (minimize(objective, start, method="BFGS", options={"maxiter": 200})
                  if len(start) else _Fixed(start, objective(start)))
    if result.status == 1 or not np.isfinite(result.fun) or result.fun >= 1e10:
        return Candidate(spec, reason=f"CSS optimiser did not converge: {result.message}")
    reason = _check_roots(result.x, spec)
    if reason:
        return Candidate(spec, reason=reason)
    e = css_residuals(result.x, w, spec)
    sigma2 = float(e @ e / n_used) + floor
    aic, aicc = _criteria(len(w) * np.log(sigma2), len(w), n_params)
    notes = () if result.success else (f"CSS optimiser: {result.message}",)
    return Candidate(spec, to_statsmodels(result.x, sigma2, spec), aic, aicc, None, notes)


@dataclass
class _Fixed:
    """What ``minimize`` would return for a model without coefficients."""

    x: np.ndarray
    fun: float
    status: int = 0
    success: bool = True
    message: str = "no coefficients to estimate"


def to_statsmodels(theta: np.ndarray, sigma2: float, spec: Spec) -> np.ndarray:
    """CSS parameters in statsmodels ``ARIMA``'s layout: trend, ar, ma, seasonal ar, ma, sigma2.

    statsmodels writes the trend as a regression on time (``y_t = b t + u_t``), so a drift
    ``mu`` of the differenced series is ``b = mu / m`` after a seasonal difference."""
    mean, phi, ma, sphi, sma = _split(theta, spec)
    trend = [mean / (spec.m if spec.D else 1)] if spec.constant else []
    return np.r_[trend, phi, ma, sphi, sma, sigma2].astype(float)


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with warnings caught: (result or None, error or None, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = fn(*args, **kwargs), None
        except Exception as err:  # noqa: BLE001 - any failure of a fit is recorded, not raised
            result, error = None, f"{type(err).__name__}: {err}"
    return result, error, sorted({f"{w.category.__name__}: {w.message}" for w in caught})


def build_model(z: np.ndarray, spec: Spec, trend=None, params=None, **kwargs) -> ARIMA:
    """statsmodels' ``ARIMA`` of ``spec`` on ``z`` (``trend``: override, for 0.1's fits). Given
    ``params`` with a non-stationary AR part (a sinusoid), the model starts from a diffuse
    state instead of the stationary distribution."""
    if params is not None and not is_stationary(spec, params):
        kwargs["enforce_stationarity"] = False
    return ARIMA(z, order=spec.order, seasonal_order=spec.seasonal_order,
                 trend=trend or spec.trend, **kwargs)


def fit_ml(z: np.ndarray, spec: Spec) -> Candidate:
    """Exact maximum likelihood by statsmodels (as version 0.1 fitted every model)."""
    res, error, messages = quiet(lambda: build_model(z, spec).fit())
    converge = [m for m in messages if m.startswith(ConvergenceWarning.__name__)]
    if error is None and converge:
        error = converge[0]
    if error is None and not (np.isfinite(res.params).all() and np.isfinite(res.aic)):
        error = "non-finite parameters or AIC"
    if error:
        return Candidate(spec, reason=error, messages=tuple(m for m in messages
                                                            if m not in converge))
    aicc = float(res.aicc) if np.isfinite(res.aicc) else np.inf
    return Candidate(spec, np.asarray(res.params, dtype=float), float(res.aic), aicc, None,
                     tuple(messages))


FITTERS = {"css": fit_css, "ml": fit_ml}


def fit_spec(z: np.ndarray, spec: Spec, method: str) -> Candidate:
    return FITTERS[method](z, spec)
