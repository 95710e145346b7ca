"""Forecasts and their variances from many origins of one series: one Kalman-filter pass.

statsmodels' ``ARIMA`` filters the series with the fitted parameters; the predicted state at each
origin ``t`` (given rows ``< t``) and its covariance are carried ``h`` steps by the (time-
invariant) state-space matrices, for all origins at once:

    mean_h(t) = Z T^h a_t + sum_{j<h} Z T^j c + d(t + h)
    var_h(t)  = (Z T^h) P_t (Z T^h)' + sum_{j<h} (Z T^j) R Q R' (Z T^j)' + H

(``d(r)``: the observation intercept at row ``r``, the mean or the drift's linear trend). The
last origin's forecast is statsmodels' own ``forecast()``. Memory is bounded: the filter keeps
only the predicted states (and, for variances, their covariances) and runs over segments of at
most ``COV_BUDGET`` bytes of covariances, each starting from the previous one's predicted state
and covariance ("known" initialisation), which continues the same recursion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.statespace import kalman_filter as kf

from .arima_fits import Spec, build_model

COV_BUDGET = 64 * 2**20  # bytes of predicted-state covariances held at once
MIN_SEGMENT = 500
KEEP_STATES = (kf.MEMORY_NO_FORECAST | kf.MEMORY_NO_FILTERED | kf.MEMORY_NO_LIKELIHOOD
               | kf.MEMORY_NO_GAIN | kf.MEMORY_NO_SMOOTHING | kf.MEMORY_NO_STD_FORECAST)


@dataclass
class Matrices:
    """Time-invariant state-space matrices of a fitted ARIMA; ``line``: d(r) = a + b r."""

    T: np.ndarray  # (k, k) transition
    Z: np.ndarray  # (k,) design
    c: np.ndarray  # (k,) state intercept
    RQR: np.ndarray  # (k, k) state disturbance covariance
    H: float  # observation noise variance
    line: tuple  # (a, b): observation intercept at absolute row r


def _first(value) -> np.ndarray:
    """A state-space matrix at time 0: (rows, cols[, time]) -> (rows, cols)."""
    value = np.asarray(value)
    return value[..., 0] if value.ndim == 3 else value


def matrices(spec: Spec, params: np.ndarray, trend: str) -> Matrices:
    """The matrices of ``spec`` with ``params`` (the data do not enter them)."""
    model = build_model(np.zeros(3), spec, trend, params)
    model.update(params)
    ssm = model.ssm
    R, Q = _first(ssm["selection"]), _first(ssm["state_cov"])
    oi = np.atleast_2d(ssm["obs_intercept"])  # (1, 3) time-varying (a trend) or (1, 1)
    b = float(oi[0, 1] - oi[0, 0]) if oi.shape[1] > 1 else 0.0
    c = np.asarray(ssm["state_intercept"])
    return Matrices(_first(ssm["transition"]), _first(ssm["design"])[0],
                    c[:, 0] if c.ndim == 2 else c, R @ Q @ R.T,
                    float(np.ravel(ssm["obs_cov"])[0]), (float(oi[0, 0]), b))


def _segment_bounds(n: int, k: int, with_cov: bool, first_min: int) -> list[tuple[int, int]]:
    if not with_cov:
        return [(0, n)]
    length = max(MIN_SEGMENT, first_min, COV_BUDGET // (8 * k * k))
    return [(s, min(n, s + length)) for s in range(0, n, length)] or [(0, 0)]


def filter_states(z: np.ndarray, spec: Spec, params: np.ndarray, trend: str,
                  origins: np.ndarray, with_cov: bool, k_states: int):
    """Predicted states (k, n_origins) at ``origins`` (given the rows before each), and their
    covariances (k, k, n_origins) when ``with_cov``, by one pass over ``z``."""
    flags = KEEP_STATES | (0 if with_cov else kf.MEMORY_NO_PREDICTED_COV)
    first_min = 4 * (spec.d + spec.D * spec.m + 1) + 50  # the exact-diffuse period fits in it
    init, states, covs = None, [np.zeros((k_states, 0))], [np.zeros((k_states, k_states, 0))]
    for start, stop in _segment_bounds(len(z), k_states, with_cov, first_min):
        model = build_model(z[start:stop], spec, trend, params, trend_offset=start + 1)
        if init is not None:  # continue the recursion where the previous segment ended
            model.ssm.initialize_known(*init)
        fr = model.filter(params, cov_type="none", conserve_memory=flags).filter_results
        at = origins[(origins >= start) & ((origins < stop) | (stop == len(z)))] - start
        states.append(fr.predicted_state[:, at])
        if with_cov:
            covs.append(fr.predicted_state_cov[:, :, at])
            init = (fr.predicted_state[:, -1].copy(), fr.predicted_state_cov[:, :, -1].copy())
    return np.concatenate(states, axis=1), (np.concatenate(covs, axis=2) if with_cov else None)


def propagate(mx: Matrices, horizon: int):
    """G (horizon, k) = Z T^h, the intercepts' sum and the disturbances' variance per step."""
    k = len(mx.Z)
    G, shift, noise = np.empty((horizon, k)), np.zeros(horizon), np.zeros(horizon)
    g, acc_c, acc_v = mx.Z.copy(), 0.0, mx.H
    for h in range(horizon):
        G[h], shift[h], noise[h] = g, acc_c, acc_v
        acc_c += g @ mx.c
        acc_v += g @ mx.RQR @ g
        g = g @ mx.T
    return G, shift, noise


def forecast_from_states(mx: Matrices, state: np.ndarray, cov, origins: np.ndarray,
                         horizon: int, chunk: int = 256):
    """Means (n_origins, horizon) and variances (or None) from predicted states at origins."""
    G, shift, noise = propagate(mx, horizon)
    a, b = mx.line
    rows = origins[:, None] + np.arange(horizon)[None, :]  # (n_origins, horizon)
    means = (G @ state).T + shift[None, :] + a + b * rows
    if cov is None:
        return means, None
    var = np.empty_like(means)
    for s in range(0, len(origins), chunk):
        part = cov[:, :, s:s + chunk]  # (k, k, n)
        var[s:s + chunk] = np.einsum("hk,kln,hl->nh", G, part, G, optimize=True) + noise
    return means, var


def forecast_series(z: np.ndarray, spec: Spec, params: np.ndarray, trend: str,
                    origins: np.ndarray, horizon: int, variance: bool = False):
    """Forecast means (n_origins, horizon) and variances (or None) of one series."""
    mx = matrices(spec, params, trend)
    state, cov = filter_states(z, spec, params, trend, origins, variance, len(mx.T))
    return forecast_from_states(mx, state, cov, origins, horizon)
