"""The CSV and JSON exports of commitments, written incrementally: each yields the document
piece by piece, so the public exports (streamed, ``views``) and the nightly snapshots
(written to files, ``services/snapshots``) hold one chunk of rows at a time and produce
the same bytes for the same rows.

A row is ``schemas.CommitmentRow``: its fields, in their order, are the CSV's columns (then
``generated_at``) and the JSON's keys. Nothing here names a field.

Owns: the two file layouts (the CSV's header, cells and quoting; the JSON document around
the rows) and the pieces they are written in. Must not define a row's fields or values
(``schemas``), read anything except through ``selectors``, or know about requests.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from . import selectors
from .filters import CommitmentFilter
from .models import Commitment
from .safety import spreadsheet_cell
from .schemas import CommitmentRow

#: The CSV's header: a row's fields, then when the file was generated.
CSV_COLUMNS = [*CommitmentRow.model_fields, "generated_at"]

#: Rows written per piece of output: bigger pieces, fewer writes to the socket or file.
ROWS_PER_PIECE = 200


def commitment_rows(queryset: QuerySet[Commitment]) -> Iterator[dict]:
    """One ``CommitmentRow`` (a plain dict in field order) per commitment of ``queryset``
    (already public, filtered and ordered), read in chunks from a server-side cursor."""
    return CommitmentRow.rows(selectors.commitment_export_rows(queryset))


def json_header(filterset: CommitmentFilter, generated_at: datetime.datetime) -> dict:
    """What the JSON export says before its rows: when, from which list, with which filters
    (and which were ignored, and why)."""
    return {
        "generated_at": generated_at.isoformat(),
        "source": settings.SITE_URL + reverse("commitments:commitment_list"),
        "filters": filterset.active,
        "ignored_filters": [
            {"name": item["name"], "reason": item["reason"]} for item in filterset.ignored
        ],
    }


def _in_pieces(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` joined ``ROWS_PER_PIECE`` at a time."""
    piece: list[str] = []
    for line in lines:
        piece.append(line)
        if len(piece) >= ROWS_PER_PIECE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


class _Echo:
    """A file-like object whose ``write`` returns what it is given (Django's
    documentation, "Streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def csv_pieces(rows: Iterable[dict], generated_at: str) -> Iterator[str]:
    """The CSV: the header, then one line per row, each stamped with ``generated_at``.
    Editors' words never start a formula in the reader's spreadsheet
    (``spreadsheet_cell``); a list is joined with "; "."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    yield from _in_pieces(
        writer.writerow(
            [
                spreadsheet_cell("; ".join(value) if isinstance(value, list) else value)
                for value in row.values()
            ]
            + [generated_at]
        )
        for row in rows
    )


#: ``json.dumps(value, ensure_ascii=False)``, without building an encoder for every row.
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def json_pieces(rows: Iterable[dict], header: dict) -> Iterator[str]:
    """One JSON document: ``header``'s keys, then ``"commitments": [...]`` written row by
    row, then ``"count"`` (the number of rows written, known only at the end)."""
    opening = _dumps(header)[:-1]  # "{...}" without its closing brace
    yield opening + (", " if header else "") + '"commitments": [\n'
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for row in rows:
            yield (",\n" if count else "") + _dumps(row)
            count += 1

    yield from _in_pieces(lines())
    yield f'\n], "count": {count}}}\n'
