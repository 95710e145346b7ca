"""Saving and loading fitted estimators: atomic writes and clear errors.

``save(est, path)`` writes a joblib file (a pickle: it can run code when loaded, so load only
files you trust) through a temporary file in the same folder and an atomic rename, so an
interrupted or failing save leaves the old file or the new one, never a truncated one. The file
still loads with plain ``joblib.load``. ``load(path)`` turns a truncated, corrupted or foreign
file into a :class:`ModelFileError` that names the file, instead of a traceback from pickle.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import joblib
from sklearn.base import BaseEstimator


class ModelFileError(ValueError):
    """The file is not a complete model file written by autoforecast."""


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write to {str(path)!r}: it is a folder; give a file name.")
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(estimator, path, compress: int = 3) -> Path:
    """Write a fitted estimator to ``path`` (joblib format), atomically; returns the path."""
    if not isinstance(estimator, BaseEstimator):
        raise TypeError(f"save expects a scikit-learn style estimator, got {type(estimator).__name__}.")
    with atomic_path(path) as tmp:
        joblib.dump(estimator, tmp, compress=compress)
    return Path(path)


def load(path):
    """Read an estimator written by :func:`save` (or ``joblib.dump``) from a file you trust."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{str(path)!r} is empty: not an autoforecast model file.")
    try:
        obj = joblib.load(path)
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
