"""CSV reports never hand a spreadsheet a formula, and never mangle a phone number."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ozoasync.cli.report import open_report, spreadsheet_safe
from ozoasync.cli.tally import Item, Skip
from ozoasync.results import Outcome


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+", "'+"),
        ("+91 98765 43210", "'+91 98765 43210"),  # not a bare number: a formula to Excel
        # Phone numbers and ordinary text stay as they are.
        ("+919876543210", "+919876543210"),
        ("9876543210", "9876543210"),
        ("09876543210", "09876543210"),
        ("not found", "not found"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written


def test_csv_report_neutralises_numbers_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    report = open_report(str(path), "campaign-data delete", "campaign=x")
    report.write(
        [
            Item("=cmd()", Skip.INVALID, "not a phone number"),
            Item("+919876543210", Outcome.FAILED, "@evil server message"),
        ]
    )
    assert not path.exists()  # appears whole, at the end
    report.close({})
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["number"], r["message"]) for r in rows] == [
        ("'=cmd()", "not a phone number"),
        ("+919876543210", "'@evil server message"),
    ]
