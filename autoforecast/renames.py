"""What moved or went away since older versions, for the files they wrote and the code written
against them: the one place that knows old names.

- ``RENAMED_CLASSES``: where the classes that model files name live now (old files name
  ``autoforecast.baselines.lstm.LSTMForecaster``, ...); :func:`autoforecast.load` reads every
  joblib file through it. :class:`RemovedModule` stands in for 0.1's networks.
- ``RENAMED_PARAMS`` / ``REMOVED_PARAMS``: constructor parameters that moved (most into the
  search settings, :mod:`autoforecast.settings`) or went. Model files are read through
  :func:`upgrade_params` (joblib files in ``EstimatorShell.__setstate__``, safe files in
  :mod:`autoforecast.safe_format`); code that still passes an old name gets an error that names
  the new place (:func:`moved_params_message`).

Extend the tables when a class or a parameter moves. No torch here: the shell imports it.
"""

from __future__ import annotations


class RemovedModule:
    """Stand-in for a class of version 0.1 that 0.2 removed with the network it belonged to
    (``cells/segments.py`` replaced it). A 0.1 file holding one is read far enough for its
    estimator to refuse it (``OutdatedModelError``: refit); the stand-in itself cannot run."""

    def __call__(self, *args, **kwargs):
        raise RuntimeError("this module was written by an older autoforecast whose network this "
                           "version replaced; refit the model.")


_REMOVED = f"{__name__}.RemovedModule"

# Where the classes that model files name live now: old "module.Class" -> new "module.Class".
# load() reads every joblib file through it; extend it when a class moves or goes away.
RENAMED_CLASSES = {
    "autoforecast.baselines.lstm.LSTMForecaster": "autoforecast.baselines.rnn.LSTMForecaster",
    "autoforecast.search.genotype.DartsNode": "autoforecast.search.node_types.DartsNode",
    "autoforecast.search.genotype.TwoInputNode": "autoforecast.search.node_types.TwoInputNode",
    # 0.1's networks, which 0.2 replaced: files holding them are refused with "refit"
    "autoforecast.baselines.lstm.LSTMNet": _REMOVED,
    "autoforecast.cells.heads.ForecastHead": _REMOVED,
    "autoforecast.estimators.CellHead": _REMOVED,
    "autoforecast.cells.model.CellModel": _REMOVED,
    "autoforecast.cells.model.LastStateHead": _REMOVED,
}


# Constructor parameters renamed since 0.2: old name -> its new place ("search__x": the field
# x of the ``search`` settings; else the new name).
_SAME_NAME = ("backbone", "mode", "n_active", "init_nodes", "max_nodes", "growth", "grow_every",
              "n_searches", "selection_epochs", "second_order", "strategy", "derivation",
              "genotype")
RENAMED_PARAMS = {
    **{name: f"search__{name}" for name in _SAME_NAME},
    "search_epochs": "search__epochs", "search_activations": "search__activations",
    "search_windows": "search__subsample", "search_tokens": "search__subsample",
    "lstm_weight_drop": "weight_drop", "cell_weight_drop": "weight_drop",
}
# Constructor parameters removed since 0.2: name -> why, and what to do instead.
REMOVED_PARAMS = {
    "n_threads": "torch's own setting is used: call torch.set_num_threads(n) before fit",
    "nonmono": "NT-ASGD starts averaging after 5 epochs without improvement, as AWD-LSTM does",
    "min_count": "the vocabulary keeps the max_vocab most frequent words",
}


def moved_params_message(names, owner: str) -> str:
    """Where the old parameters ``names`` of ``owner`` (a class name) went."""
    search = {n: RENAMED_PARAMS[n][len("search__"):] for n in names
              if RENAMED_PARAMS.get(n, "").startswith("search__")}
    parts = []
    if search:
        fields = ", ".join(f"{new}=..." for new in search.values())
        nested = ", ".join(f"search__{new}=..." for new in search.values())
        parts.append(f"{owner} takes {', '.join(f'`{n}`' for n in search)} as search settings "
                     f"since 0.3: pass search=SearchSettings({fields}) (from autoforecast import "
                     f"SearchSettings), or set_params({nested}).")
    for name in names:
        if name in REMOVED_PARAMS:
            parts.append(f"{owner} no longer takes `{name}` (removed in 0.3: "
                         f"{REMOVED_PARAMS[name]}).")
        elif name not in search:
            parts.append(f"{owner} takes `{name}` as `{RENAMED_PARAMS[name]}` since 0.3.")
    return " ".join(parts)


def upgrade_params(params: dict, accepted) -> dict:
    """Constructor parameters saved by an older version, in today's names (``accepted``: the
    class's parameter names): moved search settings become one ``search`` value, removed ones
    are dropped (they changed how a model is fitted, not what a fitted one forecasts)."""
    params, search = dict(params), {}
    for old in [name for name in params if name not in accepted]:
        value = params.pop(old)
        new = RENAMED_PARAMS.get(old)
        if new is None:
            continue
        if new.startswith("search__"):
            field = new[len("search__"):]
            search[field] = "all" if field == "subsample" and value is None else value
        elif new in accepted and (old == "cell_weight_drop" or new not in params):
            params[new] = value  # both weight drops were one recipe: the cell's wins
    if search and "search" in accepted:
        from .settings import SearchSettings

        given = params.get("search") or SearchSettings()
        params["search"] = given.replace(**{k: v for k, v in search.items()
                                           if k not in given.given()})
    return params
