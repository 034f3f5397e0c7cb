"""Dated full snapshots of the public data, for journalists to cite the copy they used.

One folder per day under ``settings.SNAPSHOT_ROOT``::

    2026-11-22/commitments-2026-11-22.csv
    2026-11-22/commitments-2026-11-22.json
    2026-11-22/manifest.json   files, sizes, row counts, sha256 checksums, generation time

The CSV and JSON hold what ``/commitments.csv`` and ``/commitments.json`` serve with no
filter (the same rows, columns and keys, written by the same code in ``exports``), read
once through ``Commitment.objects.public()`` in one consistent database snapshot and
streamed to both files, so memory stays flat. A day's folder is written under a temporary
name and renamed into place when complete: a reader never sees half a snapshot, and a
second run on the same day keeps the first (dated files are immutable; they are served
with long cache lifetimes). The newest ``settings.SNAPSHOT_KEEP`` folders are kept.

Owns: the folders, the manifest, writing both files in one pass, pruning and finding
files. Must not shape a row or a file (``schemas.CommitmentRow``, ``exports``): a snapshot
is the unfiltered export, byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import re
import shutil
import tempfile
from itertools import tee
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import exports
from ..filters import commitment_filter

MANIFEST = "manifest.json"
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclasses.dataclass
class SnapshotReport:
    day: str
    written: bool
    rows: int
    pruned: list[str]

    def __str__(self) -> str:
        action = "written" if self.written else "already there"
        return f"snapshot {self.day} {action}: {self.rows} rows; pruned {self.pruned or 'none'}"


def snapshot_root() -> Path:
    return Path(settings.SNAPSHOT_ROOT)


def _counted(rows, counter: list[int]):
    for row in rows:
        counter[0] += 1
        yield row


def _write_files(folder: Path, day: str, generated_at: datetime.datetime) -> tuple[list, int]:
    """Both files from one pass over the rows: the CSV and JSON writers advance in step
    (each yields every ``exports.ROWS_PER_PIECE`` rows), so ``tee`` holds about one piece."""
    unfiltered = commitment_filter({})
    counter = [0]
    csv_rows, json_rows = tee(_counted(exports.commitment_rows(unfiltered.qs), counter))
    csv_pieces = exports.csv_pieces(csv_rows, generated_at.isoformat())
    json_pieces = exports.json_pieces(json_rows, exports.json_header(unfiltered, generated_at))
    csv_path, json_path = folder / f"commitments-{day}.csv", folder / f"commitments-{day}.json"
    digests = {csv_path: hashlib.sha256(), json_path: hashlib.sha256()}
    sizes = dict.fromkeys(digests, 0)
    with csv_path.open("wb") as csv_file, json_path.open("wb") as json_file:
        streams = [(csv_pieces, csv_file, csv_path), (json_pieces, json_file, json_path)]
        while streams:
            for stream in list(streams):
                pieces, file, path = stream
                piece = next(pieces, None)
                if piece is None:
                    streams.remove(stream)
                    continue
                data = piece.encode("utf-8")
                digests[path].update(data)
                sizes[path] += len(data)
                file.write(data)
    files = [
        {
            "name": path.name,
            "format": path.suffix.lstrip("."),
            "size": sizes[path],
            "rows": counter[0],
            "sha256": digests[path].hexdigest(),
        }
        for path in (csv_path, json_path)
    ]
    return files, counter[0]


def snapshot_write(*, now: datetime.datetime | None = None) -> SnapshotReport:
    """Write today's snapshot unless it exists, then prune the old ones."""
    now = (now or timezone.now()).astimezone(datetime.UTC)
    day = now.date().isoformat()
    root = snapshot_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / day
    written, rows = False, 0
    if not (final / MANIFEST).exists():
        work = Path(tempfile.mkdtemp(prefix=f".{day}-", dir=root))
        try:
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                if connection.vendor == "postgresql" and outermost:
                    # Every query of the pass sees the same committed data.
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                files, rows = _write_files(work, day, now)
            manifest = {
                "date": day,
                "generated_at": now.isoformat(),
                "rows": rows,
                "files": files,
            }
            (work / MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            work.chmod(0o755)
            try:
                work.rename(final)
                written = True
            except OSError:  # another run finished first: keep its snapshot
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    else:
        rows = json.loads((final / MANIFEST).read_text(encoding="utf-8"))["rows"]
    return SnapshotReport(day=day, written=written, rows=rows, pruned=snapshot_prune())


def snapshot_prune(keep: int | None = None) -> list[str]:
    """Delete all but the newest ``keep`` dated folders (and leftovers of crashed runs a
    day old). Returns the days deleted."""
    keep = settings.SNAPSHOT_KEEP if keep is None else keep
    root = snapshot_root()
    if not root.is_dir():
        return []
    days = sorted(p for p in root.iterdir() if p.is_dir() and DAY_PATTERN.match(p.name))
    pruned = days[: max(len(days) - max(keep, 1), 0)]
    for folder in pruned:
        shutil.rmtree(folder, ignore_errors=True)
    cutoff = timezone.now().timestamp() - 24 * 60 * 60
    for leftover in root.glob(".????-??-??-*"):
        if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
            shutil.rmtree(leftover, ignore_errors=True)
    return [folder.name for folder in pruned]


def snapshot_list() -> list[dict]:
    """The snapshots on disk, newest first: each folder's manifest, as written."""
    root = snapshot_root()
    if not root.is_dir():
        return []
    snapshots = []
    for folder in sorted(root.iterdir(), reverse=True):
        manifest = folder / MANIFEST
        if DAY_PATTERN.match(folder.name) and manifest.is_file():
            try:
                snapshots.append(json.loads(manifest.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
    return snapshots


def snapshot_file(day: str, name: str) -> Path | None:
    """The path of a file of a snapshot (one its manifest lists, or the manifest), or
    None: nothing outside the snapshot folders can be named."""
    if not DAY_PATTERN.match(day):
        return None
    folder = snapshot_root() / day
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    if name == MANIFEST:
        return manifest
    try:
        listed = {item["name"] for item in json.loads(manifest.read_text("utf-8"))["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder / name if name in listed and (folder / name).is_file() else None
