"""The CSV and JSON exports, written incrementally: each yields the document piece by piece
from ``selectors.commitment_export_rows``, so the public exports (streamed) and the
nightly snapshots (written to files) hold one chunk of rows at a time and produce the
same bytes for the same rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from .safety import spreadsheet_cell

CSV_COLUMNS = [
    "title",
    "url",
    "status",
    "status_label",
    "status_since",
    "made_on",
    "made_by",
    "responsible",
    "topics",
    "deadline",
    "open_flags",
    "summary",
    "generated_at",
]

#: Rows written per piece of output: bigger pieces, fewer writes to the socket or file.
ROWS_PER_PIECE = 200


class _Echo:
    """A file-like object whose ``write`` returns what it is given (Django's
    documentation, "Streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def csv_pieces(rows: Iterable[dict], generated_at: str) -> Iterator[str]:
    """The CSV: a header, then one line per row. Editors' words never start a formula in
    the reader's spreadsheet (``spreadsheet_cell``); lists are joined with "; "."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    piece: list[str] = []
    for row in rows:
        piece.append(
            writer.writerow(
                [
                    spreadsheet_cell("; ".join(value) if isinstance(value, list) else value)
                    for value in row.values()
                ]
                + [generated_at]
            )
        )
        if len(piece) >= ROWS_PER_PIECE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_pieces(rows: Iterable[dict], header: dict) -> Iterator[str]:
    """One JSON document: ``header``'s keys, then ``"commitments": [...]`` written row by
    row, then ``"count"`` (the number of rows written, known only at the end)."""
    opening = _dumps(header)[:-1]  # "{...}" without its closing brace
    yield opening + (", " if header else "") + '"commitments": [\n'
    count = 0
    piece: list[str] = []
    for row in rows:
        piece.append((",\n" if count else "") + _dumps(row))
        count += 1
        if len(piece) >= ROWS_PER_PIECE:
            yield "".join(piece)
            piece = []
    yield "".join(piece) + f'\n], "count": {count}}}\n'
