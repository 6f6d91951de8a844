import pytest

from seqlab.data.tables import read_csv_table
from seqlab.errors import DataError

HEADER = '"Date Time","p (mbar)","T (degC)"\n'
FORMAT = "%d.%m.%Y %H:%M:%S"


def read(tmp_path, body):
    path = tmp_path / "table.csv"
    path.write_text(HEADER + body)
    return read_csv_table(path, "Date Time", FORMAT), path


def test_reads_numbers_indexed_by_time(tmp_path):
    frame, _ = read(
        tmp_path, "01.01.2009 00:10:00,996.52,-8.02\n01.01.2009 00:20:00,996.57,-8.41\n"
    )
    assert list(frame.columns) == ["p (mbar)", "T (degC)"]
    assert frame["T (degC)"].tolist() == [-8.02, -8.41]
    assert str(frame.index[1]) == "2009-01-01 00:20:00"


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
