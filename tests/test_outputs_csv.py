"""CSV exports never hand a spreadsheet a formula: a cell that would start one (OWASP's
"CSV Injection": = + - @ tab carriage return) starts with a single quote instead."""

from __future__ import annotations

import csv
import decimal
import io

import pytest

from commitments.safety import spreadsheet_cell

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x")', "+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _table(client, query=""):
    response = client.get("/commitments.csv" + query)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.getvalue().decode(), newline="")))


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_title_that_starts_a_formula_is_exported_as_text(client, make_commitment, formula):
    make_commitment(title=formula, summary=formula)
    (row,) = _table(client)
    assert row["title"] == "'" + formula
    assert row["summary"] == "'" + formula


def test_every_text_column_is_neutralised_and_plain_words_are_untouched(
    client, make_commitment, make_actor, make_topic
):
    commitment = make_commitment(
        title="Plain title, with = and + inside",
        summary="-5 boats",
        actor=make_actor(name="@someone"),
    )
    commitment.topics.add(make_topic(name="=cmd|' /C calc'!A0"))
    (row,) = _table(client)
    assert row["title"] == "Plain title, with = and + inside"
    assert row["summary"] == "'-5 boats"
    assert row["made_by"] == "'@someone"
    assert row["topics"] == "'=cmd|' /C calc'!A0"
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    for name, value in row.items():
        assert not value.startswith(formula_starts), (name, value)


def test_the_filtered_export_is_neutralised_too(client, make_commitment):
    make_commitment(title="=1+1 boats", status="stalled")
    make_commitment(title="Not this one", status="kept")
    assert [row["title"] for row in _table(client, "?status=stalled")] == ["'=1+1 boats"]


def test_numbers_stay_numbers():
    assert spreadsheet_cell(-5) == -5
    assert spreadsheet_cell(-2.5) == -2.5
    assert spreadsheet_cell(decimal.Decimal("-7")) == decimal.Decimal("-7")
    assert spreadsheet_cell(None) is None
    assert spreadsheet_cell("") == ""
    assert spreadsheet_cell("2025-10") == "2025-10"
