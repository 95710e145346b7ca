"""SearchSettings: the search's research settings, one frozen value both searching estimators take.

    from autoforecast import AutoCellForecaster, SearchSettings
    est = AutoCellForecaster(horizon=6, search=SearchSettings(max_nodes=6, backbone="darts"))
    est.set_params(search__n_searches=3)      # sklearn's nested form; GridSearchCV uses it too
    est.get_params()["search__max_nodes"]     # 6

A field left at ``None`` takes the estimator's default (``AutoCellForecaster`` and
``AutoCellLanguageModel`` differ where their data do: the language model searches on tokens,
the forecaster on windows); the fitted estimator keeps the settings it used, every field
filled, as ``search_settings_``. This module imports neither torch nor the search engine, so
the command line reads its choices here (those of the network too) without loading them.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, fields

BACKBONES = ("two_input", "darts")  # search/backbones.py registers a Backbone for each
CARRY_BACKBONES = ("two_input",)  # those with a carry path (Backbone.carry)
MODES = ("grow_then_prune", "grow_and_prune")
GROWTH_TRIGGERS = ("schedule", "plateau", "none")
DERIVATIONS = ("argmax", "prefer_nondegenerate")
STRATEGIES = ("search", "random")
# The forecasting network's choices (data/normalization.py and cells/segments.py check them):
# a window is normalised by one of WINDOW_NORMALIZATIONS; the parameter may also be "auto",
# which picks one of them per fit from the training part (normalization_choice.py)
WINDOW_NORMALIZATIONS = ("last", "revin", "none")
NORMALIZATIONS = ("auto", *WINDOW_NORMALIZATIONS)
COVARIATES = ("others", "all", "none")

_CHOICES = {"backbone": BACKBONES, "mode": MODES, "growth": GROWTH_TRIGGERS,
            "derivation": DERIVATIONS, "strategy": STRATEGIES}
_POSITIVE = ("n_active", "init_nodes", "max_nodes", "grow_every", "epochs", "n_searches",
             "n_candidates")


@dataclass(frozen=True, repr=False)
class SearchSettings:
    """How the cell is searched (docs/search.md; the method: docs/method.md).

    - ``backbone``: the search space, ``"two_input"`` (binary operations with Hadamard
      products) or ``"darts"`` (DARTS' recurrent cell).
    - ``mode``: ``"grow_then_prune"`` or ``"grow_and_prune"`` (``n_active`` nodes kept
      continuous after each growth).
    - ``init_nodes`` .. ``max_nodes``: the cell grows by function-preserving morphism from
      ``init_nodes`` nodes to ``max_nodes``, on ``growth`` (``"schedule"``: every
      ``grow_every`` epochs; ``"plateau"``; ``"none"``: no growth, ``init_nodes`` throughout).
    - ``epochs``: epochs of each search; ``n_searches``: searches from different seeds;
      ``n_candidates``: distinct cells derived from each search (its argmax, then the cells
      that swap in the runner-up op or input at its least decided nodes); every candidate of
      every search is retrained ``selection_epochs`` epochs and the best on validation kept
      (docs/method.md, section 8).
    - ``second_order``: DARTS' second-order architecture gradient; ``activations``: also
      search each node's activations.
    - ``subsample``: the search's training data, at most this many windows (forecaster) or
      tokens (language model), evenly spaced; ``"all"``: every one.
    - ``strategy``: ``"search"``, or ``"random"``: ``n_candidates`` cells sampled from the
      same space per search seed, selected as the search's candidates are (retrained
      ``selection_epochs`` epochs on their seed's data, the best on validation kept: the
      control).
    - ``derivation``: ``"argmax"`` or ``"prefer_nondegenerate"`` (a node whose best op passes
      one input through takes the best other op when its weight is at least half the best's).
    - ``carry``: the two-input cell's output interpolates with the previous state through a
      learned update gate, as a GRU's does (docs/method.md, section 8); searched, sampled and
      retrained cells alike. Only ``backbone="two_input"`` has it: left at None it is the
      estimator's default there and False for ``"darts"``; ``carry=True`` with ``"darts"`` is
      an error.
    - ``genotype``: no search; this cell (a ``Genotype`` or its dict) is trained.
    """

    backbone: str | None = None
    mode: str | None = None
    n_active: int | None = None
    init_nodes: int | None = None
    max_nodes: int | None = None
    growth: str | None = None
    grow_every: int | None = None
    epochs: int | None = None
    n_searches: int | None = None
    selection_epochs: int | None = None
    second_order: bool | None = None
    activations: bool | None = None
    subsample: int | str | None = None
    strategy: str | None = None
    derivation: str | None = None
    genotype: object = None
    carry: bool | None = None
    n_candidates: int | None = None

    def __post_init__(self):
        plain_ints(self)
        self._check()

    def _check(self) -> None:
        given = self.given()
        for name, allowed in _CHOICES.items():
            if name in given:
                check_choice(f"search.{name}", given[name], allowed)
        for name, low in [*((n, 1) for n in _POSITIVE), ("selection_epochs", 0)]:
            if name in given:
                check_int(f"search.{name}", given[name], low)
        if self.subsample not in (None, "all"):
            check_int("search.subsample", self.subsample, 2, 'or "all"')
        for name in ("second_order", "activations", "carry"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(f"`search.{name}` must be True or False, got "
                                 f"{getattr(self, name)!r}.")
        if self.carry and self.backbone is not None and self.backbone not in CARRY_BACKBONES:
            raise ValueError(f"`search.carry` is for the {' and '.join(CARRY_BACKBONES)} backbone; "
                             f"the {self.backbone!r} backbone has no carry path.")
        if (self.init_nodes is not None and self.max_nodes is not None
                and self.max_nodes < self.init_nodes):
            raise ValueError(f"`search.max_nodes` must be >= `search.init_nodes` "
                             f"({self.init_nodes}), got {self.max_nodes}.")

    # ------------------------------------------------------------------------ values
    def replace(self, **changes) -> "SearchSettings":
        """A copy with ``changes`` (field -> value); an unknown field is a clear error."""
        unknown = sorted(set(changes) - set(field_names()))
        if unknown:
            raise ValueError(f"SearchSettings has no field(s) {unknown}; its fields are "
                             f"{', '.join(field_names())}.")
        return dataclasses.replace(self, **changes)

    def given(self) -> dict:
        """The fields that were set (not None)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def resolve(self, defaults: "SearchSettings") -> "SearchSettings":
        """These settings, each field left at None taken from ``defaults``; ``carry`` left at
        None is False for a backbone without a carry path."""
        given = self.given()
        if self.carry is None and given.get("backbone", defaults.backbone) not in CARRY_BACKBONES:
            given["carry"] = False
        return dataclasses.replace(defaults, **given)

    def to_dict(self) -> dict:
        """Every field (a genotype as its dict): JSON-able, for reports and files."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["genotype"] is not None and hasattr(out["genotype"], "to_dict"):
            out["genotype"] = out["genotype"].to_dict()
        return out

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.given().items())
        return f"SearchSettings({given})"


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(SearchSettings))


def plain_ints(settings) -> None:
    """Turn a frozen dataclass's numpy integers (grids built with np.arange) into ints."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            object.__setattr__(settings, f.name, int(value))


def check_choice(name: str, value, allowed) -> None:
    """ValueError unless ``value`` is one of ``allowed`` (``name``: as the user wrote it)."""
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {tuple(allowed)}, got {value!r}.")


def check_int(name: str, value, low: int, alternative: str = "") -> None:
    """ValueError unless ``value`` is an int >= ``low`` (``alternative``: what else it may be)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        choice = f" {alternative}" if alternative else ""
        raise ValueError(f"`{name}` must be an int >= {low}{choice}, got {value!r}.")
