"""Scale-out: the independent runs of a fit go through joblib, so a Ray cluster takes them as is."""

from __future__ import annotations

import numpy as np
import pytest
from joblib import parallel_config

from autoforecast.estimators import AutoCellForecaster
from autoforecast.settings import SearchSettings

from conftest import make_series

SETTINGS = dict(lookback=6, horizon=2, hidden_size=4, epochs=2, batch_size=16, device="cpu",
                random_state=3, baselines=("naive", "arima"),
                search=SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=2,
                                      selection_epochs=1))


def test_fit_on_a_local_ray_instance_equals_the_local_fit():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    data = make_series(140, 2)
    local = AutoCellForecaster(**SETTINGS, n_jobs=1).fit(data)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        register_ray()
        with parallel_config(backend="ray"):
            remote = AutoCellForecaster(**SETTINGS, n_jobs=2).fit(data)
    finally:
        ray.shutdown()
    assert remote.genotype_ == local.genotype_
    np.testing.assert_allclose(remote.predict().to_numpy(), local.predict().to_numpy(), atol=1e-6)
    assert list(remote.report_.index) == ["autocell", "naive", "arima"]
