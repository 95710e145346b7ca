"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

import math

import numpy as np
import pytest

from autoforecast import metrics
from autoforecast.metrics import (
    HIGHER_IS_BETTER, METRICS, corr, mae, mase, mse, owa, rmse, rse, skill_score, smape,
)

# One series: errors y - yhat = [-1, 0, 1, -2]
Y = np.array([1.0, 2.0, 3.0, 4.0])
YHAT = np.array([2.0, 2.0, 2.0, 6.0])


def test_mae_mse_rmse_one_series():
    # |e| = [1, 0, 1, 2] -> 4 / 4 = 1;  e^2 = [1, 0, 1, 4] -> 6 / 4 = 1.5
    assert mae(Y, YHAT) == pytest.approx(1.0)
    assert mse(Y, YHAT) == pytest.approx(1.5)
    assert rmse(Y, YHAT) == pytest.approx(math.sqrt(1.5))


def test_metrics_return_python_floats_and_accept_lists():
    assert type(mae(Y.tolist(), YHAT.tolist())) is float


def test_rse_one_series():
    # mean(y) = 2.5; sum (y - 2.5)^2 = 2.25 + 0.25 + 0.25 + 2.25 = 5; sum e^2 = 6
    assert rse(Y, YHAT) == pytest.approx(math.sqrt(6 / 5))


def test_rse_uses_one_global_mean_over_all_series():
    y = np.array([[1.0, 10.0], [3.0, 14.0]])
    yhat = np.array([[2.0, 10.0], [3.0, 11.0]])
    # errors 1, 0, 0, 3 -> sum e^2 = 10
    # global mean (1 + 10 + 3 + 14) / 4 = 7 -> 36 + 9 + 16 + 49 = 110
    # (per-series means 2 and 12 would give 1 + 1 + 4 + 4 = 10 and rse 1.0)
    assert rse(y, yhat) == pytest.approx(math.sqrt(10 / 110))


def test_rse_of_the_global_mean_forecast_is_one():
    y = np.array([[1.0, 10.0], [3.0, 14.0]])
    assert rse(y, np.full_like(y, 7.0)) == pytest.approx(1.0)


def test_corr_means_pearson_over_series():
    # column 0: truth [1, 2, 3], prediction [2, 4, 6] -> correlation 1
    # column 1: truth deviations [-1, 0, 1], prediction [1, 3, 2] deviations [-1, 1, 0]
    #           -> sum of products 1, norms sqrt(2) * sqrt(2) = 2 -> 0.5
    y = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    yhat = np.array([[2.0, 1.0], [4.0, 3.0], [6.0, 2.0]])
    assert corr(y, yhat) == pytest.approx(0.75)


def test_corr_one_series_and_anticorrelation():
    assert corr([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_corr_leaves_out_series_with_constant_truth_or_prediction():
    # columns 0 and 1 as above (1 and 0.5); column 2 has constant truth, column 3 a constant
    # prediction: both are left out, so the mean stays (1 + 0.5) / 2
    y = np.array([[1.0, 1.0, 5.0, 1.0], [2.0, 2.0, 5.0, 2.0], [3.0, 3.0, 5.0, 3.0]])
    yhat = np.array([[2.0, 1.0, 1.0, 4.0], [4.0, 3.0, 2.0, 4.0], [6.0, 2.0, 3.0, 4.0]])
    assert corr(y, yhat) == pytest.approx(0.75)


def test_corr_with_every_series_constant_is_an_error():
    with pytest.raises(ValueError, match="constant"):
        corr(np.ones((3, 2)), np.arange(6.0).reshape(3, 2))


def test_mase_one_series_random_walk_and_seasonal_scale():
    train = [1.0, 3.0, 2.0, 5.0]
    # m=1: |3-1|, |2-3|, |5-2| = 2, 1, 3 -> scale 2; test errors |6-5|, |8-5| = 1, 3 -> mean 2
    assert mase([6.0, 8.0], [5.0, 5.0], train) == pytest.approx(1.0)
    # m=2: |2-1|, |5-3| = 1, 2 -> scale 1.5 -> 2 / 1.5
    assert mase([6.0, 8.0], [5.0, 5.0], train, m=2) == pytest.approx(4 / 3)


def test_mase_scales_each_series_by_its_own_training_data():
    # series 0: scale 2 (as above), errors 1, 3 -> 1.0
    # series 1: train [0, 10, 0, 10] -> scale 10; errors |10-5|, |0-5| = 5, 5 -> 0.5
    # mean over series 0.75 (one pooled scale (2 + 10) / 2 = 6 would give 3.5 / 6)
    train = np.array([[1.0, 0.0], [3.0, 10.0], [2.0, 0.0], [5.0, 10.0]])
    y = np.array([[6.0, 10.0], [8.0, 0.0]])
    yhat = np.array([[5.0, 5.0], [5.0, 5.0]])
    assert mase(y, yhat, train) == pytest.approx(0.75)


def test_mase_errors():
    with pytest.raises(ValueError, match=r"series \[1\].*scale is 0"):
        mase(np.ones((2, 2)), np.zeros((2, 2)), np.array([[1.0, 4.0], [2.0, 4.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="more than m=4"):
        mase([1.0], [1.0], [1.0, 2.0, 3.0], m=4)
    with pytest.raises(ValueError, match="int >= 1"):
        mase([1.0], [1.0], [1.0, 2.0, 3.0], m=0)
    with pytest.raises(ValueError, match="3 series"):
        mase(np.ones((2, 2)), np.ones((2, 2)), np.ones((5, 3)))


def test_smape_in_percent_with_zero_over_zero_as_zero():
    # terms: 200 * |1-3| / (1+3) = 100; 0/0 -> 0; 200 * |2-0| / (2+0) = 200 -> mean 100
    assert smape([1.0, 0.0, 2.0], [3.0, 0.0, 0.0]) == pytest.approx(100.0)
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert smape([1.0, -1.0], [-1.0, 1.0]) == pytest.approx(200.0)


def test_skill_score():
    # 1 - 0.5 / 2 = 0.75; 1 - 3 / 2 = -0.5; 1 - 2 / 2 = 0
    assert skill_score(0.5, 2.0) == pytest.approx(0.75)
    assert skill_score(3.0, 2.0) == pytest.approx(-0.5)
    assert skill_score(2.0, 2.0) == 0.0


def test_skill_score_errors():
    with pytest.raises(ValueError, match="reference forecast is already perfect"):
        skill_score(1.0, 0.0)
    with pytest.raises(ValueError, match="finite error >= 0"):
        skill_score(-1.0, 2.0)
    with pytest.raises(ValueError, match="must be a number"):
        skill_score("0.5", 2.0)


def test_owa_averages_the_two_ratios_of_the_means():
    # (10 / 20 + 3 / 2) / 2 = (0.5 + 1.5) / 2 = 1; the reference against itself is 1
    assert owa(10.0, 3.0, 20.0, 2.0) == pytest.approx(1.0)
    assert owa(18.383, 2.395, 18.383, 2.395) == 1.0
    # M4 Hourly's published sNaive means against Naive2's: (0.75679 + 0.49812) / 2
    assert owa(13.912, 1.193, 18.383, 2.395) == pytest.approx(0.627454, abs=1e-6)


def test_owa_errors():
    with pytest.raises(ValueError, match="reference forecast is perfect"):
        owa(1.0, 1.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="`mase_model` must be a finite error >= 0"):
        owa(1.0, -1.0, 2.0, 2.0)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_rejects_bad_input(name):
    metric = METRICS[name]
    with pytest.raises(ValueError, match=r"same shape.*\(3,\) and \(2,\)"):
        metric([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match=r"non-finite.*index \(1,\)"):
        metric([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="non-finite"):
        metric([1.0, 2.0, 3.0], [1.0, np.inf, 3.0])
    with pytest.raises(ValueError, match="3-D"):
        metric(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="numeric"):
        metric(["a", "b"], [1.0, 2.0])


def test_registry_names_and_direction():
    assert set(METRICS) == {"mae", "mse", "rmse", "rse", "corr", "smape"}
    assert HIGHER_IS_BETTER <= set(METRICS)
    assert METRICS["rse"](Y, YHAT) == rse(Y, YHAT)


def test_rse_of_constant_truth_is_an_error():
    with pytest.raises(ValueError, match="constant"):
        rse([2.0, 2.0], [1.0, 3.0])


def test_undefined_metrics_have_their_own_error_type_and_tables_show_nan():
    import numpy as np

    from autoforecast.evaluation import skill_table
    from autoforecast.metrics import UndefinedMetricError, rse

    with pytest.raises(UndefinedMetricError):
        rse([1.0, 1.0], [1.0, 2.0])
    truth = np.ones((4, 1, 1))  # constant truth: RSE and CORR have no value
    table = skill_table(truth, {"a": truth + 0.5, "b": truth}, "a")
    assert np.isnan(table.loc["a", "rse"]) and np.isnan(table.loc["a", "corr"])
    assert table.loc["a", "mae"] == 0.5 and np.isnan(table.loc["b", "skill_mae"])  # b is perfect
    with pytest.raises(ValueError, match="must be non-empty|empty"):
        skill_table(np.ones((0, 1, 1)), {"a": np.ones((0, 1, 1))}, "a")  # other errors still raise


def test_perplexity_is_the_exp_of_the_mean_nll_and_inf_where_that_overflows():
    assert metrics.perplexity(math.log(100.0)) == pytest.approx(100.0)
    assert metrics.perplexity(1e4) == math.inf
    assert math.isnan(metrics.perplexity(math.nan))
