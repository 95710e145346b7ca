"""Saving and loading fitted estimators: atomic writes and clear errors.

Two formats:

- joblib (any other suffix, e.g. ``model.joblib``): a pickle, which can run code when loaded;
  load only files you trust. It still loads with plain ``joblib.load`` (except files naming a
  class that has moved since: ``load`` maps those through :data:`~autoforecast.renames.RENAMED_CLASSES`).
- safe (``model.afm``, or ``format="safe"``): weights as tensors plus JSON, read with
  ``torch.load(weights_only=True)``; it cannot run code (:mod:`autoforecast.safe_format`). Use it
  for files you share or receive; ``load(path, allow_pickle=False)`` refuses anything else.

``save`` writes through a temporary file in the same folder and an atomic rename, so an
interrupted or failing save leaves the old file or the new one, never a truncated one.
``load`` turns a truncated, corrupted or foreign file into a :class:`ModelFileError` that names
the file, instead of a traceback from deep inside pickle or zipfile.

Classes that moved or went away since a file was written are found through
:data:`autoforecast.renames.RENAMED_CLASSES`, which ``load`` consults for every class a joblib
file names; renamed constructor parameters through the same module's ``upgrade_params``.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from pathlib import Path

import joblib
from joblib import numpy_pickle
from sklearn.base import BaseEstimator

from ._version import __version__
from .files import atomic_path
from .renames import RENAMED_CLASSES


class ModelFileError(ValueError):
    """The file is not a complete model file written by autoforecast."""


SAFE_SUFFIX = ".afm"
FORMATS = ("joblib", "safe")


def save(estimator, path, format: str | None = None, compress: int = 3) -> Path:
    """Write a fitted estimator to ``path``, atomically; returns the path.

    ``format`` is "joblib" or "safe"; by default "safe" for a ``.afm`` path, else "joblib".
    """
    if not isinstance(estimator, BaseEstimator):
        raise TypeError(f"save expects a scikit-learn style estimator, got {type(estimator).__name__}.")
    path = Path(path)
    format = format or ("safe" if path.suffix == SAFE_SUFFIX else "joblib")
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}, got {format!r}.")
    with atomic_path(path) as tmp:
        if format == "safe":
            from .safe_format import write_safe  # imports torch: only when a safe file is written

            with open(tmp, "wb") as handle:
                write_safe(estimator, handle)
        else:
            joblib.dump(estimator, tmp, compress=compress)
    return path


class _RenamingUnpickler(numpy_pickle.NumpyUnpickler):
    """joblib's unpickler, looking each class up in :data:`RENAMED_CLASSES` first."""

    def find_class(self, module: str, name: str):
        new = RENAMED_CLASSES.get(f"{module}.{name}")
        if new is not None:
            module, _, name = new.rpartition(".")
        return super().find_class(module, name)


_UNPICKLER_LOCK = threading.Lock()


@contextlib.contextmanager
def _renaming_unpickler():
    """``joblib.load`` through :class:`_RenamingUnpickler` (joblib takes no unpickler argument;
    it builds ``numpy_pickle.NumpyUnpickler``, swapped here for the length of one load)."""
    with _UNPICKLER_LOCK:
        original = numpy_pickle.NumpyUnpickler
        numpy_pickle.NumpyUnpickler = _RenamingUnpickler
        try:
            yield
        finally:
            numpy_pickle.NumpyUnpickler = original


def load(path, allow_pickle: bool = True):
    """Read an estimator written by :func:`save` (or ``joblib.dump``).

    Safe-format files are recognised by their content, whatever their name. With
    ``allow_pickle=False`` any other file is refused: use that for files from others.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{str(path)!r} is empty: not an autoforecast model file.")
    with open(path, "rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    if is_zip:
        return _load_safe(path)
    if not allow_pickle:
        raise ModelFileError(
            f"{str(path)!r} is not a safe-format model file, and allow_pickle=False refuses "
            "pickles (joblib files run code when loaded). Ask for a .afm file, or load it with "
            "allow_pickle=True only if you trust its source."
        )
    try:
        with _renaming_unpickler():
            obj = joblib.load(path)
    except ModelFileError:  # an outdated model says so itself
        raise
    except Exception as err:  # a damaged pickle can fail in many ways (struct, zlib, pickle, ...)
        raise ModelFileError(
            f"{str(path)!r} could not be read as an autoforecast model file: it is truncated, "
            f"corrupted or of another format ({type(err).__name__}: {err}). Save the model again "
            "with autoforecast.save."
        ) from err
    if not (isinstance(obj, BaseEstimator) and type(obj).__module__.startswith("autoforecast.")):
        raise ModelFileError(
            f"{str(path)!r} holds a {type(obj).__module__}.{type(obj).__name__}, "
            "not an autoforecast estimator."
        )
    return obj


def _load_safe(path: Path):
    from .safe_format import read_safe  # imports torch: only when a safe file is read

    try:
        estimator, saved_by = read_safe(path)
    except ModelFileError:  # an outdated model says so itself
        raise
    except Exception as err:  # a damaged zip or entry can fail in many ways
        raise ModelFileError(
            f"{str(path)!r} could not be read as a safe-format autoforecast model: it is "
            f"truncated, corrupted or of another format ({type(err).__name__}: {err})."
        ) from err
    if saved_by != __version__:
        warnings.warn(f"{str(path)!r} was saved by autoforecast {saved_by} and is loaded by "
                      f"{__version__}; it may not work or give the same forecasts.", UserWarning,
                      stacklevel=2)
    return estimator
