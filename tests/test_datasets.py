"""Shipped data, benchmark loaders (on the shared copies when present) and the wheel's contents."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoforecast import datasets
from autoforecast.datasets import (
    ett_split, list_datasets, load_appliances, load_beijing_pm25, load_dataset, load_etth1,
    load_exchange_rate, lstnet_split,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHIPPED_FILES = ("appliances_energy.csv.xz", "beijing_pm25.csv.xz", "README.md")


def assert_regular_float_frame(frame, shape, freq):
    assert frame.shape == shape
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "date"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert frame.index.freq == pd.tseries.frequencies.to_offset(freq)
    assert all(dtype == np.float64 for dtype in frame.dtypes)


def test_load_appliances():
    frame = load_appliances()
    assert_regular_float_frame(frame, (19735, 28), "10min")
    assert frame.index[0] == pd.Timestamp("2016-01-11 17:00")
    assert frame.index[-1] == pd.Timestamp("2016-05-27 18:00")
    assert list(frame.columns[:3]) == ["Appliances", "lights", "T1"]
    assert frame.iloc[0]["Appliances"] == 60.0  # first row of the file: "  60"
    assert not frame.isna().any().any()


def test_load_beijing_pm25_keeps_missing_values():
    frame = load_beijing_pm25()
    assert_regular_float_frame(frame, (43824, 7), "h")
    assert list(frame.columns) == ["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]
    assert frame.index[0] == pd.Timestamp("2010-01-01 00:00")
    assert frame.index[-1] == pd.Timestamp("2014-12-31 23:00")
    assert frame["pm2.5"].isna().sum() == 2067
    assert frame.drop(columns="pm2.5").notna().all().all()
    # first row of the file: 1,2010,1,1,0,NA,-21,-11,1021,NW,1.79,0,0
    assert frame.iloc[0, 1:].tolist() == [-21.0, -11.0, 1021.0, 1.79, 0.0, 0.0]


def test_registry():
    assert set(list_datasets()) == {"appliances", "beijing_pm25"}
    assert all(isinstance(text, str) and text for text in list_datasets().values())
    assert load_dataset("beijing_pm25").shape == (43824, 7)
    with pytest.raises(ValueError, match=r"Unknown data set 'nope'.*'appliances', 'beijing_pm25'"):
        load_dataset("nope")


needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"benchmark data folder {SHARED_DATA} not present"
)


def _shared_file(relative):
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@needs_shared
def test_load_exchange_rate_from_file_and_from_folder():
    frame = load_exchange_rate(_shared_file("lstnet/exchange_rate.txt"))
    assert_regular_float_frame(frame, (7588, 8), "D")
    assert list(frame.columns) == ["AUD", "GBP", "CAD", "CHF", "CNY", "JPY", "NZD", "SGD"]
    assert frame.index[0] == pd.Timestamp("1990-01-01")
    assert frame.iloc[0, 0] == 0.7855  # first value of the file
    # the data home folder: found in its lstnet/ subfolder
    pd.testing.assert_frame_equal(load_exchange_rate(SHARED_DATA), frame)


@needs_shared
def test_load_etth1_and_environment_variable(monkeypatch):
    _shared_file("ett/ETTh1.csv")
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(SHARED_DATA))
    frame = load_etth1()
    assert_regular_float_frame(frame, (17420, 7), "h")
    assert list(frame.columns) == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert frame.index[0] == pd.Timestamp("2016-07-01 00:00")
    assert frame.index[-1] == pd.Timestamp("2018-06-26 19:00")


def test_missing_benchmark_file_says_what_where_and_from_where(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load_etth1(tmp_path)
    message = str(caught.value)
    assert "ETTh1.csv not found" in message
    assert str(tmp_path / "ETTh1.csv") in message
    assert str(tmp_path / "ett" / "ETTh1.csv") in message
    assert "zhouhaoyi/ETDataset" in message and "ETT-small/ETTh1.csv" in message

    expected = r"exchange_rate\.txt.*laiguokun/multivariate-time-series-data"
    with pytest.raises(FileNotFoundError, match=expected):
        load_exchange_rate(tmp_path / "exchange_rate.txt")


def test_no_path_and_no_environment_variable(monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match="AUTOFORECAST_DATA environment variable is not set"):
        load_exchange_rate()


def test_exchange_rate_with_wrong_columns(tmp_path):
    (tmp_path / "exchange_rate.txt").write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="3 columns, expected 8"):
        load_exchange_rate(tmp_path)


def test_protocol_splits():
    # int(0.6 * 7588) = int(4552.8) = 4552; int(0.8 * 7588) = int(6070.4) = 6070
    assert lstnet_split(7588) == (4552, 6070, 7588)
    assert lstnet_split(10).train_end == 6
    assert ett_split() == (8640, 11520, 14400)
    with pytest.raises(ValueError, match="int >= 5"):
        lstnet_split(3)


@pytest.mark.slow
def test_wheel_contains_the_data_and_the_installed_loader_finds_it(tmp_path):
    build = subprocess.run(
        [sys.executable, "-c",
         "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
         str(tmp_path / "dist")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    if build.returncode != 0 and "No module named 'hatchling'" in build.stderr:
        pytest.skip("hatchling (the build backend) is not installed")
    assert build.returncode == 0, build.stderr
    wheel = tmp_path / "dist" / build.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {f"autoforecast/_data/{name}" for name in SHIPPED_FILES} <= names
        archive.extractall(tmp_path / "site")
    # the unpacked wheel, first on the path, must be what is imported and read
    check = (
        "import autoforecast, autoforecast.datasets as d; "
        "assert autoforecast.__file__.startswith(%r), autoforecast.__file__; "
        "assert str(d._shipped_file('beijing_pm25.csv.xz')).startswith(%r); "
        "print(d.load_beijing_pm25().shape)"
    ) % (str(tmp_path / "site"), str(tmp_path / "site"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(43824, 7)"
