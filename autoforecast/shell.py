"""The estimator shell every model of the project shares: one ``fit`` wrapper.

:class:`EstimatorShell` is the base of the forecasters (:class:`autoforecast.base.BaseForecaster`)
and of :class:`autoforecast.language_model.AutoCellLanguageModel`. It holds, once:

- the fit wrapper: the fitted state (attributes ending in ``_``) is forgotten before a fit, and
  removed again when the fit raises or is interrupted (Ctrl-C): never a half-fitted estimator;
- progress: ``fit(..., callback=None)``; ``callback(ProgressEvent)`` receives a ``"fit"`` start
  event, the model's own events (``_emit``) and a ``"fit"`` end event; without a callback,
  ``verbose`` (where the estimator has it) renders the events on stderr
  (:func:`autoforecast.events.stderr_renderer`);
- the record of how far a fit got (each stage's last ``reached`` phrase), which an
  ``"interrupted"`` event reports when Ctrl-C stops the fit;
- ``_seed()``, the seed drawn from ``random_state``;
- :class:`MaxTimeWarning`: ``_time_capped(what)`` notes that ``max_time`` cut something short,
  and the wrapper warns once the fit has finished;
- the version a pickled estimator was saved by: a file of another version loads with a warning,
  a parameter added since gets its default, and a file older than the class's
  ``_first_readable_version`` (its network changed) raises :class:`OutdatedModelError`.

A subclass implements ``_fit(X)`` (or passes its own work to ``_run_fit``); the temporary
attributes of a fit (``_callback``, ``_started``, ``_reached``, ``_capped``) are removed after it,
so a fitted estimator clones and pickles cleanly.
"""

from __future__ import annotations

import inspect
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ._version import __version__
from .events import ProgressEvent, stderr_renderer
from .persistence import ModelFileError
from .renames import RENAMED_PARAMS, REMOVED_PARAMS, moved_params_message, upgrade_params

_TEMPORARY = ("_callback", "_started", "_reached", "_capped")


class MaxTimeWarning(UserWarning):
    """``max_time`` stopped a fit early: the result depends on the machine's speed."""


class OutdatedModelError(ModelFileError):
    """The model file was written by a version whose model this version cannot run: refit."""


def _version_tuple(version: str) -> tuple:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


class EstimatorShell(BaseEstimator):
    """Base of every estimator: the fit wrapper, progress events, seeding, the max-time warning,
    the version check of saved models."""

    _first_readable_version = "0.0.0"  # files saved before this version cannot be used
    # A searching estimator's default SearchSettings (every field set); None: it takes no
    # ``search`` parameter.
    _search_defaults = None

    # ------------------------------------------------------------------ parameters
    def __new__(cls, *args, **kwargs):
        """An old keyword (0.2's ``max_nodes=``, ``n_threads=``, ...) is a TypeError that names
        its new place, before ``__init__`` would reject it without saying where it went."""
        moved = [k for k in kwargs if (k in RENAMED_PARAMS or k in REMOVED_PARAMS)
                 and k not in inspect.signature(cls.__init__).parameters]
        if moved:
            raise TypeError(moved_params_message(moved, cls.__name__))
        return super().__new__(cls)

    def _search_settings(self, strict: bool = True):
        """The search settings in effect: ``search`` with every unset field filled from the
        estimator's defaults. ``strict``: a ``search`` of another type is a TypeError (at
        ``fit``); else it reads as the defaults (``get_params`` never raises)."""
        from .settings import SearchSettings

        search = SearchSettings() if self.search is None else self.search
        if not isinstance(search, SearchSettings):
            if strict:
                raise TypeError(f"`search` must be None or a SearchSettings (from autoforecast "
                                f"import SearchSettings), got {type(search).__name__}.")
            search = SearchSettings()
        return search.resolve(self._search_defaults)

    def get_params(self, deep=True):
        """The constructor's parameters; with ``deep``, also each search setting as
        ``search__<field>`` (its value in effect: the estimator's default where unset)."""
        params = super().get_params(deep=deep)
        if deep and self._search_defaults is not None:
            resolved = self._search_settings(strict=False)
            params |= {f"search__{k}": v for k, v in vars(resolved).items()}
        return params

    def set_params(self, **params):
        """Set parameters; ``search__<field>=value`` replaces one field of the (immutable)
        search settings. An old name (0.2's ``max_nodes``, ...) is an error naming its new
        place."""
        search_changes = {k[len("search__"):]: params.pop(k) for k in list(params)
                          if k.startswith("search__")}
        moved = [k for k in params if k in RENAMED_PARAMS or k in REMOVED_PARAMS]
        moved = [k for k in moved if k not in self.get_params(deep=False)]
        if moved:
            raise ValueError(moved_params_message(moved, type(self).__name__))
        if search_changes:
            if self._search_defaults is None:
                raise ValueError(f"{type(self).__name__} has no search settings; got "
                                 f"{', '.join('search__' + k for k in search_changes)}.")
            from .settings import SearchSettings

            current = params.pop("search", self.search) or SearchSettings()
            params["search"] = current.replace(**search_changes)
        return super().set_params(**params)

    # ---------------------------------------------------------------------------- fit
    def fit(self, X, y=None, callback=None):
        """Learn from ``X``; ``y`` is ignored. ``callback(ProgressEvent)`` receives progress.
        Returns ``self``.

        A fit that fails or is interrupted (Ctrl-C) removes all fitted state (the attributes
        ending in ``_``), so the estimator is never left half fitted.
        """
        return self._run_fit(callback, self._fit, X)

    def _fit(self, X):
        raise NotImplementedError(f"{type(self).__name__} must implement _fit.")

    def _run_fit(self, callback, work, *args):
        """Run ``work(*args)`` as a fit: forget the old fit, report progress, clean up."""
        self._forget_fit()  # a refit starts from nothing: no attribute of an earlier fit stays
        self._callback = callback or (stderr_renderer if getattr(self, "verbose", 0) else None)
        self._started, self._reached, self._capped = time.perf_counter(), {}, []
        name = type(self).__name__
        try:
            self._emit("fit", 0, 1, f"fitting {name}")
            work(*args)
            for message in self._capped:
                warnings.warn(message, MaxTimeWarning, stacklevel=3)
            self._emit("fit", 1, 1, f"{name} fitted", seconds=self._elapsed())
            return self
        except KeyboardInterrupt:
            self._forget_fit()
            self._emit("interrupted", 0, None, f"fit interrupted; reached: {self._progress()}. "
                       "The estimator is left unfitted.")
            raise
        except BaseException:
            self._forget_fit()
            raise
        finally:
            for attribute in _TEMPORARY:
                self.__dict__.pop(attribute, None)

    def _forget_fit(self) -> None:
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)

    def _elapsed(self) -> float:
        """Seconds since the current fit started."""
        return time.perf_counter() - self._started

    def _time_left(self) -> float | None:
        """Seconds of ``max_time`` this fit has left (None: no cap): every stage of a fit (search,
        training, refit) shares the one budget, each getting what the ones before left."""
        max_time = getattr(self, "max_time", None)
        if max_time is None:
            return None
        return max(max_time - self._elapsed(), 1e-3)

    def _progress(self) -> str:
        """How far the current fit got: each stage's last ``reached`` phrase, in order."""
        reached = getattr(self, "_reached", None)
        return "; ".join(reached.values()) if reached else "the start (no step had finished)"

    # ----------------------------------------------------------------------- progress
    def _emit(self, stage: str, step: int, total: int | None, message: str, *,
              reached: str | None = None, **data) -> None:
        """Send a :class:`ProgressEvent` to the fit's callback. ``reached``: a phrase saying
        how far the fit got in ``stage`` (e.g. "search run 0, epoch 2 of 6"), kept for the
        message of an interrupted fit."""
        if reached is not None and getattr(self, "_reached", None) is not None:
            self._reached[stage] = reached
        callback = getattr(self, "_callback", None)
        if callback is not None:
            callback(ProgressEvent(stage, step, total, message, data))

    def _time_capped(self, what: str, detail: str = "") -> None:
        """Note that ``max_time`` cut ``what`` short (``detail``: how far it got, e.g. ", after
        3 of 30 epochs"); a :class:`MaxTimeWarning` says so once the fit has finished."""
        self._capped.append(
            f"max_time={self.max_time}s cut {what} short{detail}; the result depends on this "
            "machine's speed and is not reproducible. Pass max_time=None for a reproducible fit.")

    # ------------------------------------------------------------------------ seeding
    def _seed(self) -> int:
        """A seed drawn from ``random_state`` (the same each call for an int ``random_state``)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # ------------------------------------------------------------------ saved models
    @classmethod
    def check_saved_version(cls, saved: str | None) -> None:
        """Raise :class:`OutdatedModelError` for a model saved by a version older than the
        class's ``_first_readable_version``."""
        if saved is not None and _version_tuple(saved) < _version_tuple(cls._first_readable_version):
            raise OutdatedModelError(
                f"this {cls.__name__} was saved by autoforecast {saved}; version {__version__} "
                f"cannot use it, as its network changed in {cls._first_readable_version}. Refit "
                f"the model with this version (or install autoforecast=={saved} to use the file).")

    def __getstate__(self):
        state = super().__getstate__()
        if type(self).__module__.startswith("autoforecast."):
            state["_autoforecast_version"] = __version__
        return state

    def __setstate__(self, state):
        saved = state.pop("_autoforecast_version", None)
        self.check_saved_version(saved)
        if saved is not None and saved != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved by autoforecast {saved} and is loaded by "
                f"{__version__}; it may not work or give the same forecasts. Refit it, or install "
                f"autoforecast=={saved} to use it.", UserWarning, stacklevel=2)
        accepted = {name: p.default for name, p in
                    inspect.signature(type(self).__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        fitted = {k: v for k, v in state.items() if k.endswith("_") or k.startswith("_")}
        params = upgrade_params({k: v for k, v in state.items() if k not in fitted}, accepted)
        state = {**fitted, **params}
        for name, default in accepted.items():  # added after the file's version
            state.setdefault(name, default)
        super().__setstate__(state)
