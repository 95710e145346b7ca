"""Named budgets: documented presets of the estimators' parameters.

The command line's ``--budget`` takes these names; in Python they are plain parameter dicts::

    from autoforecast import AutoCellForecaster
    from autoforecast.presets import FORECASTER_PRESETS
    est = AutoCellForecaster(horizon=6, **FORECASTER_PRESETS["tiny"])

``"small"`` is the estimator's defaults (an empty dict), so that ``autoforecast fit`` with no
``--budget`` fits what ``AutoCellForecaster()`` fits. The others change the sizes that set a
fit's cost: hidden units, training epochs, and the search's epochs, largest cell and seeds.
This module imports no torch (the command line's ``--help`` reads it).
"""

from __future__ import annotations

from .settings import SearchSettings

FORECASTER_PRESETS = {
    "tiny": dict(hidden_size=8, epochs=3,
                 search=SearchSettings(epochs=2, max_nodes=2, n_searches=1,
                                       n_candidates=1)),  # seconds
    "small": {},  # AutoCellForecaster's defaults: a minute or two on a few thousand rows
    "medium": dict(epochs=50, search=SearchSettings(epochs=20)),
    "large": dict(hidden_size=64, epochs=150,
                  search=SearchSettings(epochs=50, max_nodes=6, n_searches=3)),
}

LANGUAGE_MODEL_PRESETS = {
    "tiny": dict(embedding_size=16, hidden_size=16, epochs=2,
                 search=SearchSettings(epochs=2, max_nodes=2, subsample=20_000)),
    "small": {},  # AutoCellLanguageModel's defaults
    "medium": dict(embedding_size=200, hidden_size=200, epochs=20, dropout_e=0.1,
                   dropout_x=0.3, dropout_o=0.4,
                   search=SearchSettings(epochs=8, max_nodes=6, subsample=200_000)),
}

PRESETS = {"forecaster": FORECASTER_PRESETS, "language_model": LANGUAGE_MODEL_PRESETS}


def preset(name: str, kind: str = "forecaster") -> dict:
    """The parameters of the budget ``name`` for a model of ``kind`` (a copy)."""
    table = PRESETS[kind]
    if name not in table:
        raise ValueError(f"unknown budget {name!r}; expected one of {', '.join(table)}.")
    return dict(table[name])
