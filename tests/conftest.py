"""Shared fixtures: small synthetic series, and the path to the shared benchmark data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` (benchmarks/ is not a package), as a module of its own name
    ``benchmarks_<name>``."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def make_series(n: int = 120, n_features: int = 3, freq: str = "h", seed: int = 0) -> pd.DataFrame:
    """A seasonal, noisy multivariate series with a DatetimeIndex."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(2 * np.pi * t / 12 + np.arange(n_features)) + 0.1 * rng.normal(size=(n, n_features))
    index = pd.date_range("2021-01-01", periods=n, freq=freq)
    return pd.DataFrame(values, index=index, columns=[f"s{i}" for i in range(n_features)])


@pytest.fixture
def series() -> pd.DataFrame:
    return make_series()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test on one torch thread: tiny recurrent steps are fastest so, on a busy machine by
    far, and the pinned values do not depend on the machine's core count (the estimators use
    torch's own setting). The thread count is restored after the test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
