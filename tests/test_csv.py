"""read_series_csv / write_frame_csv: parsing, column selection, and one clear error per problem."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest

from autoforecast.data import read_series_csv, write_frame_csv


def write(tmp_path, text: str, name: str = "s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "date,a,b\n2021-01-01 00:00,1,2\n2021-01-01 01:00,3,4\n2021-01-01 02:00,5,6\n"


def test_reads_time_index_and_columns(tmp_path):
    frame = read_series_csv(write(tmp_path, GOOD))
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "date"
    assert list(frame.columns) == ["a", "b"]
    assert frame.index[1] == pd.Timestamp("2021-01-01 01:00")
    np.testing.assert_array_equal(frame["a"].to_numpy(), [1, 3, 5])


def test_auto_finds_unnamed_first_date_column(tmp_path):
    frame = read_series_csv(write(tmp_path, "when,a\n2021-01-01,1\n2021-01-02,2\n"))
    assert frame.index.name == "when"
    assert isinstance(frame.index, pd.DatetimeIndex)


def test_auto_without_time_column_gives_range_index(tmp_path):
    frame = read_series_csv(write(tmp_path, "a,b\n1,2\n3,4\n"))
    assert isinstance(frame.index, pd.RangeIndex)
    assert list(frame.columns) == ["a", "b"]


def test_numeric_time_column_becomes_numeric_index(tmp_path):
    frame = read_series_csv(write(tmp_path, "t,a\n10,1\n20,2\n"), time_column="t")
    assert list(frame.index) == [10, 20]


def test_none_keeps_every_column(tmp_path):
    frame = read_series_csv(write(tmp_path, GOOD), time_column=None)
    assert list(frame.columns) == ["date", "a", "b"]


def test_time_format(tmp_path):
    path = write(tmp_path, "date,a\n31/01/2021,1\n01/02/2021,2\n")
    frame = read_series_csv(path, time_format="%d/%m/%Y")
    assert frame.index[1] == pd.Timestamp("2021-02-01")


def test_mixed_iso_precision_parses(tmp_path):
    frame = read_series_csv(write(tmp_path, "date,a\n2021-01-01,1\n2021-01-01 01:00,2\n"))
    assert frame.index[1] == pd.Timestamp("2021-01-01 01:00")


def test_columns_selects_in_order(tmp_path):
    frame = read_series_csv(write(tmp_path, GOOD), columns=["b", "a"])
    assert list(frame.columns) == ["b", "a"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_series_csv(tmp_path / "nope.csv")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_series_csv(tmp_path)


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(ValueError, match="is empty"):
        read_series_csv(write(tmp_path, text))


def test_header_only(tmp_path):
    with pytest.raises(ValueError, match="no data rows"):
        read_series_csv(write(tmp_path, "date,a,b\n"))


def test_unparsable_date_names_column_value_and_line(tmp_path):
    path = write(tmp_path, "date,a\n2021-01-01,1\nnot-a-date,2\n2021-01-03,3\n")
    with pytest.raises(ValueError, match=r"'date'.*1 value\(s\).*'not-a-date' at line 3"):
        read_series_csv(path)


def test_blank_timestamp(tmp_path):
    with pytest.raises(ValueError, match="empty at line 3"):
        read_series_csv(write(tmp_path, "date,a\n2021-01-01,1\n,2\n"))


def test_unknown_time_column_lists_columns(tmp_path):
    with pytest.raises(ValueError, match="no time column 'stamp'.*date, a, b"):
        read_series_csv(write(tmp_path, GOOD), time_column="stamp")


def test_unknown_columns_listed_with_available(tmp_path):
    with pytest.raises(ValueError, match=r"no column\(s\) \['c'\].*columns are a, b"):
        read_series_csv(write(tmp_path, GOOD), columns=["a", "c"])


def test_unsorted_rows(tmp_path):
    path = write(tmp_path, "date,a\n2021-01-02,1\n2021-01-01,2\n")
    with pytest.raises(ValueError, match="not in time order.*line 3.*Sort the file"):
        read_series_csv(path)


_LINES = GOOD.splitlines()


@pytest.mark.parametrize("text, match", [
    ("date,a\n2021-01-01,1\n2021-01-01,2\n", "repeats"),
    ("date\n2021-01-01\n2021-01-02\n", "no data column"),
    ("date,y,y\n2021-01-01,1,2\n2021-01-02,3,4\n", "names the column 'y' 2 times"),
    ("".join(line + ",\n" for line in _LINES),  # a trailing separator on every line
     r"every line ends with ',', which makes an empty column without a name after 'b'"),
    (_LINES[0] + "\n" + "".join(line + ",\n" for line in _LINES[1:]),  # on the rows only
     "more fields than the header line"),
], ids=["repeated timestamp", "only a time column", "repeated column name",
        "trailing separator everywhere", "trailing separator on the rows"])
def test_a_malformed_file_is_refused_by_name(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_series_csv(write(tmp_path, text))


def test_non_numeric_values_are_kept_for_validation(tmp_path):
    frame = read_series_csv(write(tmp_path, "date,a\n2021-01-01,1\n2021-01-02,x\n"))
    assert not pd.api.types.is_numeric_dtype(frame["a"])


def test_write_round_trip(tmp_path):
    frame = read_series_csv(write(tmp_path, GOOD))
    out = write_frame_csv(frame, tmp_path / "out.csv")
    again = read_series_csv(out)
    pd.testing.assert_frame_equal(frame, again, check_freq=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_write_to_missing_folder(tmp_path):
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_frame_csv(frame, tmp_path / "no" / "out.csv")


def test_write_failure_keeps_old_file(tmp_path, monkeypatch):
    target = write(tmp_path, "old\n", "out.csv")

    def broken(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(KeyboardInterrupt):
        write_frame_csv(pd.DataFrame({"a": [1.0]}), target)
    assert target.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


@pytest.mark.parametrize("sep, name", [(";", "';'"), ("\t", "tab")])
def test_a_file_with_another_separator_is_named_and_readable(tmp_path, sep, name):
    text = GOOD.replace(",", sep).replace("1" + sep + "2", "1,5" + sep + "2")  # a decimal comma
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=f"looks {name}-separated.*" + re.escape(f"sep={sep!r}")):
        read_series_csv(path)
    frame = read_series_csv(write(tmp_path, GOOD.replace(",", sep), "ok.csv"), sep=sep)
    assert list(frame.columns) == ["a", "b"] and isinstance(frame.index, pd.DatetimeIndex)


@pytest.mark.parametrize("sep", ["", ";;"])
def test_separator_must_be_one_character(tmp_path, sep):
    expected = r"`sep` must be a single character.*got " + re.escape(repr(sep))
    with pytest.raises(ValueError, match=expected):
        read_series_csv(write(tmp_path, GOOD), sep=sep)


def test_binary_file_is_not_a_text_csv(tmp_path):
    path = tmp_path / "model.csv"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError, match="is not a text CSV file"):
        read_series_csv(path)


