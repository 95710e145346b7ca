"""save/load: atomic writes, clear errors for truncated or foreign files, version warnings."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

import autoforecast
from autoforecast import ModelFileError
from autoforecast.baselines import NaiveForecaster


@pytest.fixture
def fitted(series):
    return NaiveForecaster(lookback=3, horizon=2).fit(series)


def test_round_trip_and_plain_joblib(fitted, tmp_path):
    path = autoforecast.save(fitted, tmp_path / "m.joblib")
    np.testing.assert_array_equal(autoforecast.load(path).predict(), fitted.predict())
    np.testing.assert_array_equal(joblib.load(path).predict(), fitted.predict())
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]


def test_truncated_and_foreign_files_give_clear_errors(fitted, tmp_path):
    path = autoforecast.save(fitted, tmp_path / "m.joblib")
    data = path.read_bytes()
    (tmp_path / "cut.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated, corrupted"):
        autoforecast.load(tmp_path / "cut.joblib")
    (tmp_path / "text.joblib").write_text("hello")
    with pytest.raises(ModelFileError):
        autoforecast.load(tmp_path / "text.joblib")
    joblib.dump({"a": 1}, tmp_path / "dict.joblib")
    with pytest.raises(ModelFileError, match="not an autoforecast estimator"):
        autoforecast.load(tmp_path / "dict.joblib")
    (tmp_path / "empty.joblib").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        autoforecast.load(tmp_path / "empty.joblib")


def test_failed_save_keeps_the_old_file(fitted, tmp_path, monkeypatch):
    path = autoforecast.save(fitted, tmp_path / "m.joblib")
    before = path.read_bytes()

    def broken_dump(obj, target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        autoforecast.save(fitted, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]


def test_saved_files_get_the_usual_permissions(fitted, tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = autoforecast.save(fitted, tmp_path / "m.joblib")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    autoforecast.save(fitted, path)  # overwriting keeps the file's mode
    assert path.stat().st_mode & 0o777 == 0o640


def test_unwritable_destination(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        autoforecast.save(fitted, tmp_path / "no" / "m.joblib")


def test_version_mismatch_warns(fitted):
    state = fitted.__getstate__()
    assert state["_autoforecast_version"] == autoforecast.__version__
    state["_autoforecast_version"] = "0.0.1"
    copy = NaiveForecaster.__new__(NaiveForecaster)
    with pytest.warns(UserWarning, match="saved by autoforecast 0.0.1"):
        copy.__setstate__(state)


# ------------------------------------------------------------------ the safe (.afm) format
import io  # noqa: E402
import json  # noqa: E402
import zipfile  # noqa: E402

from forecasters import small_forecasters  # noqa: E402

SMALL = small_forecasters()


@pytest.mark.parametrize("est", SMALL, ids=[type(e).__name__ for e in SMALL])
def test_safe_format_round_trip_gives_identical_forecasts(est, series, tmp_path):
    from sklearn.base import clone

    est = clone(est).fit(series)
    path = autoforecast.save(est, tmp_path / "model.afm")
    back = autoforecast.load(path, allow_pickle=False)
    assert type(back) is type(est) and back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.predict().to_numpy(), est.predict().to_numpy())
    np.testing.assert_array_equal(back.predict(series.iloc[:50]).to_numpy(),
                                  est.predict(series.iloc[:50]).to_numpy())
    assert back.score(series) == pytest.approx(est.score(series))


def test_safe_format_refuses_pickles_and_unknown_classes(fitted, tmp_path):
    joblib_path = autoforecast.save(fitted, tmp_path / "m.joblib")
    with pytest.raises(ModelFileError, match="allow_pickle=False refuses"):
        autoforecast.load(joblib_path, allow_pickle=False)
    safe = autoforecast.save(fitted, tmp_path / "m.afm")
    with zipfile.ZipFile(safe) as archive:
        meta = json.loads(archive.read("meta.json"))
        tensors = archive.read("tensors.pt")
    meta["estimator"]["class"] = "system"
    forged = tmp_path / "forged.afm"
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr("meta.json", json.dumps(meta))
        archive.writestr("tensors.pt", tensors)
    with pytest.raises(ModelFileError, match="unknown estimator 'system'"):
        autoforecast.load(forged)
    data = safe.read_bytes()
    (tmp_path / "cut.afm").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        autoforecast.load(tmp_path / "cut.afm")


def test_safe_format_explains_what_it_cannot_store(tmp_path):
    from autoforecast.safe_format import _Encoder

    with pytest.raises(TypeError, match="save this model with joblib"):
        _Encoder().encode(io.BytesIO(), "weird_")


def test_safe_format_refuses_a_namesake_of_an_allowed_class(series, tmp_path):
    from autoforecast.baselines import NaiveForecaster as Allowed

    class NaiveForecaster(Allowed):  # same name, another class: not on the allowlist
        pass

    est = NaiveForecaster(lookback=2, horizon=1).fit(series)
    with pytest.raises(TypeError, match="cannot store a NaiveForecaster"):
        autoforecast.save(est, tmp_path / "m.afm")
    assert not (tmp_path / "m.afm").exists()


def test_safe_format_stores_dicts_with_number_keys(series, tmp_path):
    from autoforecast.baselines import LinearForecaster

    est = LinearForecaster(lookback=4, horizon=2, alpha="auto", validation_size=0.2).fit(series)
    back = autoforecast.load(autoforecast.save(est, tmp_path / "m.afm"), allow_pickle=False)
    assert back.alpha_scores_ == est.alpha_scores_ and back.alpha_ == est.alpha_
    np.testing.assert_array_equal(back.predict().to_numpy(), est.predict().to_numpy())


def test_renamed_classes_point_at_classes_that_exist():
    """Every entry of the one rename table leads to a class this version has."""
    import importlib

    from autoforecast.renames import RENAMED_CLASSES, RemovedModule

    for old, new in RENAMED_CLASSES.items():
        module, _, name = new.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), old
    assert RENAMED_CLASSES["autoforecast.estimators.CellHead"].endswith(RemovedModule.__name__)


def test_load_leaves_joblibs_unpickler_as_it_was(fitted, tmp_path):
    from joblib import numpy_pickle

    original = numpy_pickle.NumpyUnpickler
    autoforecast.save(fitted, tmp_path / "m.joblib")
    autoforecast.load(tmp_path / "m.joblib")
    (tmp_path / "bad.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError):
        autoforecast.load(tmp_path / "bad.joblib")
    assert numpy_pickle.NumpyUnpickler is original
