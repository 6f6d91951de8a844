"""The README's results section quotes the board, never numbers from elsewhere: every mean ± std,
every accuracy in per cent and every three-decimal metric it states is on LEADERBOARD.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"\d{1,3}(?:,\d{3})*(?:\.\d+)?"
SPREAD = re.compile(rf"({NUMBER}) ± ({NUMBER})( %)?")
PERCENT = re.compile(r"(?<![\d.])(\d{2}\.\d{2}) %")
DECIMAL = re.compile(r"(?<![\d.,])(\d\.\d{3,4})(?![\d])")


def results_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("\n## Results\n", 1)[1].split("\n## ", 1)[0]


def value(number: str, percent: bool = False) -> float:
    """``88.52`` with ``percent`` (a README accuracy) is the board's ``0.8852``."""
    return round(float(number.replace(",", "")) / (100 if percent else 1), 6)


def quoted(section: str) -> tuple[set[tuple[float, float]], set[float]]:
    """The mean ± std pairs and the single numbers that ``section`` states."""
    spreads = {(value(m, bool(p)), value(s, bool(p))) for m, s, p in SPREAD.findall(section)}
    rest = SPREAD.sub("", section)
    percents = {value(n, percent=True) for n in PERCENT.findall(rest)}
    return spreads, percents | {value(n) for n in DECIMAL.findall(rest)}


def on_board() -> tuple[set[tuple[float, float]], set[float]]:
    board = (ROOT / "LEADERBOARD.md").read_text()
    spreads = {(value(m), value(s)) for m, s, _ in SPREAD.findall(board)}
    return spreads, {value(n) for n in re.findall(NUMBER, board)}


def test_quoted_reads_spreads_percentages_and_decimals() -> None:
    assert quoted("88.52 ± 0.37 %, 19,097 ± 383, then 88.74 % and 2.468 (13.7 % lower)") == (
        {(0.8852, 0.0037), (19097.0, 383.0)},
        {0.8874, 2.468},
    )
    spreads, singles = quoted(results_section())
    assert len(spreads) + len(singles) > 20


def test_every_number_in_the_results_is_on_the_board() -> None:
    spreads, singles = quoted(results_section())
    board_spreads, board_numbers = on_board()
    missing = sorted(map(str, spreads - board_spreads)) + sorted(map(str, singles - board_numbers))
    assert not missing, f"README results quote numbers LEADERBOARD.md does not have: {missing}"
