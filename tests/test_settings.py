"""The estimators' surface: the search settings as one value, old names, one set of defaults."""

from __future__ import annotations

import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from autoforecast import (AutoCellForecaster, AutoCellLanguageModel, GRUForecaster,
                          SearchSettings, load, save)
from autoforecast.presets import PRESETS
from autoforecast.search import Genotype, TwoInputNode
from autoforecast.shell import MaxTimeWarning

from conftest import make_series

SEARCHING = [AutoCellForecaster, AutoCellLanguageModel]
SMALL = dict(lookback=8, horizon=2, hidden_size=4, epochs=2, batch_size=16, device="cpu",
             random_state=0, baselines=(),
             search=SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=1))


@pytest.mark.parametrize("cls", [*SEARCHING, GRUForecaster])
def test_at_most_25_constructor_parameters(cls):
    assert len(cls().get_params(deep=False)) <= 25


def test_search_settings_are_a_value():
    a = SearchSettings(max_nodes=6, backbone="darts")
    assert a == SearchSettings(backbone="darts", max_nodes=6) and hash(a) == hash(
        SearchSettings(backbone="darts", max_nodes=6))
    assert repr(a) == "SearchSettings(backbone='darts', max_nodes=6)"
    with pytest.raises(AttributeError):
        a.max_nodes = 3  # frozen
    assert a.replace(max_nodes=3).max_nodes == 3 and a.max_nodes == 6
    assert SearchSettings(max_nodes=np.int64(3)).max_nodes == 3
    for bad, match in [(dict(backbone="gru"), r"`search.backbone` must be one of"),
                       (dict(max_nodes=0), r"`search.max_nodes` must be an int >= 1"),
                       (dict(init_nodes=3, max_nodes=2), r"`search.max_nodes` must be >="),
                       (dict(subsample=1), r'`search.subsample` must be an int >= 2 or "all"'),
                       (dict(n_candidates=0), r"`search.n_candidates` must be an int >= 1"),
                       (dict(second_order="yes"), "True or False")]:
        with pytest.raises(ValueError, match=match):
            SearchSettings(**bad)
    with pytest.raises(ValueError, match="SearchSettings has no field"):
        a.replace(nodes=3)


@pytest.mark.parametrize("cls", SEARCHING)
def test_search_fields_are_parameters_the_sklearn_way(cls):
    est = cls()
    params = est.get_params()
    defaults = cls._search_defaults
    assert {k: params[f"search__{k}"] for k in vars(defaults)} == vars(defaults)
    est.set_params(search__max_nodes=6, search__backbone="darts", hidden_size=8)
    assert est.search == SearchSettings(max_nodes=6, backbone="darts") and est.hidden_size == 8
    assert est.get_params()["search__max_nodes"] == 6
    assert est.get_params()["search__epochs"] == defaults.epochs  # unset: the default
    copy = clone(est)
    assert copy.search == est.search and copy.get_params() == est.get_params()
    for grid in ParameterGrid({"search__max_nodes": [2, 3], "search__mode": ["grow_and_prune"]}):
        assert clone(est).set_params(**grid).get_params()["search__max_nodes"] == grid[
            "search__max_nodes"]
    with pytest.raises(ValueError, match="SearchSettings has no field"):
        est.set_params(search__nodes=3)


@pytest.mark.parametrize("cls, n", [(AutoCellForecaster, 4), (AutoCellLanguageModel, 4)])
def test_candidates_per_search_are_a_search_setting(cls, n):
    """docs/method.md, section 8: the forecaster derives several candidates by default (chosen
    on validation), so its defaults retrain them (selection_epochs > 0); the language model
    too, since issue 22 measured them on PTB's validation part; the setting reaches the
    search's config."""
    from autoforecast.search import SearchConfig

    defaults = cls._search_defaults
    assert defaults.n_candidates == n and defaults.selection_epochs > 0
    est = cls().set_params(search__n_candidates=3)
    assert est.get_params()["search__n_candidates"] == 3
    assert clone(est).get_params()["search__n_candidates"] == 3
    assert SearchConfig.from_settings(est._search_settings()).n_candidates == 3
    assert SearchConfig.from_settings(cls()._search_settings()).n_candidates == n


def test_estimators_without_a_search_refuse_search_params():
    with pytest.raises(ValueError, match="has no search settings"):
        GRUForecaster().set_params(search__max_nodes=3)


def test_old_keywords_name_their_new_place():
    with pytest.raises(TypeError, match=r"`max_nodes`, `search_epochs` as search settings since "
                                        r"0.3: pass search=SearchSettings\(max_nodes=..., "
                                        r"epochs=...\)"):
        AutoCellForecaster(max_nodes=3, search_epochs=2)
    with pytest.raises(TypeError, match=r"no longer takes `n_threads`.*torch.set_num_threads"):
        GRUForecaster(n_threads=1)
    with pytest.raises(TypeError, match="`lstm_weight_drop` as `weight_drop`"):
        AutoCellLanguageModel(lstm_weight_drop=0.2)
    with pytest.raises(ValueError, match=r"set_params\(search__backbone=...\)"):
        AutoCellForecaster().set_params(backbone="darts")
    with pytest.raises(TypeError, match="unexpected keyword"):
        AutoCellForecaster(no_such_parameter=1)


def test_a_file_of_0_2_with_flat_search_parameters_loads_into_search_settings():
    """0.2 pickled its parameters flat; the rename table turns them into today's."""
    est = AutoCellForecaster()
    state = dict(est.__getstate__())
    del state["search"]
    state |= dict(max_nodes=3, search_epochs=4, search_windows=None, strategy="random",
                  n_threads=1, _autoforecast_version="0.2.0")
    loaded = AutoCellForecaster.__new__(AutoCellForecaster)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "saved by 0.2.0, loaded by ..."
        loaded.__setstate__(state)
    assert loaded.search == SearchSettings(max_nodes=3, epochs=4, subsample="all",
                                           strategy="random")
    assert "n_threads" not in vars(loaded)
    assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()


@pytest.mark.parametrize("suffix", [".joblib", ".afm"])
def test_search_settings_are_saved_with_the_model(tmp_path, suffix):
    given = Genotype("two_input", (TwoInputNode("hadamard", "x"),))
    est = AutoCellForecaster(**{**SMALL, "search": SearchSettings(genotype=given)})
    est.fit(make_series(120, 2))
    assert est.genotype_ == given and est.search_history_ == []  # given: no search
    loaded = load(save(est, tmp_path / f"m{suffix}"))
    assert loaded.search == est.search and loaded.search_settings_ == est.search_settings_
    np.testing.assert_allclose(loaded.predict().to_numpy(), est.predict().to_numpy())
    pickle.loads(pickle.dumps(loaded))


def test_max_time_is_one_budget_for_the_whole_fit(monkeypatch):
    import autoforecast.estimators as estimators
    import autoforecast.neural as neural

    caps = {}

    def spy(module, real):
        def call(*args, **kwargs):
            caps.setdefault(module, []).append(
                args[0].max_time if module == "search" else kwargs["max_time"])
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(estimators, "run_searches", spy("search", estimators.run_searches))
    monkeypatch.setattr(neural, "train_module", spy("train", neural.train_module))
    monkeypatch.setattr(estimators, "train_module", spy("refit", estimators.train_module))
    est = AutoCellForecaster(**{**SMALL, "max_time": 600, "refit": True, "epochs": 4, "lr": 2e-2})
    est.fit(make_series(160, 2))
    assert est.best_epoch_ >= 0  # so there is a refit
    assert 0 < caps["train"][0] < caps["search"][0] <= 600  # what the search left
    assert caps["refit"][0] < caps["train"][0]


def test_a_refit_cut_by_max_time_warns(monkeypatch):
    import autoforecast.estimators as estimators

    real = estimators.train_module
    monkeypatch.setattr(estimators, "train_module",  # the refit's loop, with no time left
                        lambda *a, **kw: real(*a, **{**kw, "max_time": 1e-9}))
    est = AutoCellForecaster(**{**SMALL, "max_time": 600, "refit": True, "epochs": 4, "lr": 2e-2})
    with pytest.warns(MaxTimeWarning, match="cut the refit on all rows short"):
        est.fit(make_series(160, 2))


@pytest.mark.parametrize("kind, cls", [("forecaster", AutoCellForecaster),
                                       ("language_model", AutoCellLanguageModel)])
def test_the_default_budget_is_the_librarys_defaults(kind, cls):
    """`autoforecast fit` without --budget fits what AutoCellForecaster() fits: its default
    budget is the empty preset, and every option that sets a parameter defaults to None (the
    library's default) or to the library's own default value."""
    from autoforecast.cli import fitting, lm

    assert PRESETS[kind]["small"] == {}
    command, options = ((fitting.fit, fitting.FIT_OPTIONS) if kind == "forecaster" else
                        (lm.lm_fit, {}))
    defaults = cls().get_params()
    for name, parameter in inspect.signature(command).parameters.items():
        default = getattr(parameter.default, "value", parameter.default)
        params = options.get(name, (name,))
        if name in ("budget", "seed", "ctx", "baseline") or default is None:
            continue  # seed: the command line is reproducible by default
        for param in params:
            if param in defaults:
                assert default == defaults[param], (name, default, defaults[param])


@pytest.mark.parametrize("cls", SEARCHING)
def test_carry_is_on_by_default_for_two_input_and_off_for_darts(cls):
    """docs/method.md, section 8: both estimators search cells with the carry path (the
    language model since issue 22 measured it on PTB's validation part); the DARTS backbone has
    none, so an unset ``carry`` resolves to False there, and True is an error."""
    from autoforecast.search import SearchConfig

    assert cls._search_defaults.carry is True
    assert cls().set_params(search__carry=True).get_params()["search__carry"] is True
    est = cls()
    assert est.get_params()["search__carry"] is True
    est.set_params(search__backbone="darts")
    assert est.get_params()["search__carry"] is False
    resolved = est._search_settings()
    assert SearchConfig.from_settings(resolved).carry is False
    est.set_params(search__backbone="two_input", search__carry=False)
    assert SearchConfig.from_settings(est._search_settings()).carry is False
    with pytest.raises(ValueError, match="'darts' backbone has no carry path"):
        SearchSettings(backbone="darts", carry=True)
    with pytest.raises(ValueError, match="`search.carry` must be True or False"):
        SearchSettings(carry="yes")
