import zipfile

import numpy as np
import pytest

from seqlab.data import tables
from seqlab.data.tables import read_csv_table
from seqlab.errors import DataError

HEADER = '"Date Time","p (mbar)","T (degC)"\n'
FORMAT = "%d.%m.%Y %H:%M:%S"


def read(tmp_path, body):
    path = tmp_path / "table.csv"
    path.write_text(HEADER + body)
    return read_csv_table(path, "Date Time", FORMAT), path


def test_reads_float32_numbers_with_their_times(tmp_path):
    table, _ = read(
        tmp_path, "01.01.2009 00:10:00,996.52,-8.02\n01.01.2009 00:20:00,996.57,-8.41\n"
    )
    assert table.columns == ["p (mbar)", "T (degC)"]
    assert table.values.dtype == np.float32
    assert table.values[:, 1].tolist() == pytest.approx([-8.02, -8.41])
    assert str(table.times[1]) == "2009-01-01 00:20:00"


def test_chunks_keep_line_numbers_and_floors_raise_sentinels(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)
    rows = [f"01.01.2009 00:{m:02d}:00,{-9999 if m == 30 else 996},-8" for m in range(10, 60)]
    path = tmp_path / "table.csv"
    path.write_text(HEADER + "\n".join(rows))  # no final newline
    table = tables.read_csv_table(path, "Date Time", FORMAT, floors={"p (mbar)": 0.0})
    assert len(table.times) == 50 and table.times.is_monotonic_increasing
    assert table.values[20, 0] == 0.0 and table.values[21, 0] == 996.0
    rows[40] = rows[40].replace(",-8", ",oops")
    path.write_text(HEADER + "\n".join(rows))
    with pytest.raises(DataError, match="line 42: a missing or non-numeric value"):
        tables.read_csv_table(path, "Date Time", FORMAT)


def test_a_zipped_table_reads_like_a_plain_one(tmp_path):
    plain, path = read(tmp_path, "01.01.2009 00:10:00,996.52,-8.02\n")
    with zipfile.ZipFile(tmp_path / "table.csv.zip", "w") as archive:
        archive.write(path, "table.csv")
    zipped = read_csv_table(tmp_path / "table.csv.zip", "Date Time", FORMAT)
    assert (zipped.values == plain.values).all() and zipped.times.equals(plain.times)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("01.01.2009 00:20:00,996.57,-8.41,12.0", "not a well-formed CSV"),
        ("01.01.2009 00:20:00,996.57,abc", "line 3: a missing or non-numeric value"),
        ("01.01.2009 00:20:00,996.57", "line 3: a missing or non-numeric value"),
        ("2009-01-01 00:20,996.57,-8.41", "line 3: a 'Date Time' that is not"),
    ],
)
def test_a_malformed_row_is_one_clear_error(tmp_path, row, message):
    with pytest.raises(DataError, match=message) as error:
        read(tmp_path, f"01.01.2009 00:10:00,996.52,-8.02\n{row}\n")
    assert "table.csv" in str(error.value)


def test_a_table_without_rows_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="holds no data rows"):
        read(tmp_path, "")
