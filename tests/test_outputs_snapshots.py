"""Dated snapshots of the public data: written by the nightly job (CSV, JSON and a
manifest whose checksums match), public data only, once a day, the oldest pruned, listed
at /data/ and served as immutable files."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command

from commitments import tasks
from commitments.services import snapshot_write

pytestmark = pytest.mark.django_db

DAY = datetime.datetime(2026, 3, 14, 2, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def snapshot_root(settings, tmp_path):
    settings.SNAPSHOT_ROOT = tmp_path / "snapshots"
    settings.SNAPSHOT_KEEP = 3
    return settings.SNAPSHOT_ROOT


def manifest_of(root, day="2026-03-14"):
    return json.loads((root / day / "manifest.json").read_text())


def test_the_job_writes_csv_and_json_whose_checksums_match_the_manifest(
    client, snapshot_root, make_commitment, make_topic
):
    published = [make_commitment(title=f"Published promise {n}") for n in range(3)]
    published[0].topics.add(make_topic(name="Crossings"))
    make_commitment(title="Quokka draft promise", published=False)

    report = snapshot_write(now=DAY)
    assert report.written and report.rows == 3

    manifest = manifest_of(snapshot_root)
    assert manifest["date"] == "2026-03-14" and manifest["rows"] == 3
    assert manifest["generated_at"] == DAY.isoformat()
    names = {file["name"] for file in manifest["files"]}
    assert names == {"commitments-2026-03-14.csv", "commitments-2026-03-14.json"}
    for file in manifest["files"]:
        data = (snapshot_root / "2026-03-14" / file["name"]).read_bytes()
        assert file["size"] == len(data)
        assert file["sha256"] == hashlib.sha256(data).hexdigest()
        assert file["rows"] == 3
        assert b"Quokka" not in data  # a draft is never in a snapshot

    folder = snapshot_root / "2026-03-14"
    table = list(csv.DictReader(io.StringIO(folder.joinpath(sorted(names)[0]).read_text())))
    document = json.loads(folder.joinpath(sorted(names)[1]).read_text())
    # The same content as the exports: the same columns, keys and rows.
    export = list(csv.DictReader(io.StringIO(client.get("/commitments.csv").getvalue().decode())))
    assert list(table[0]) == list(export[0])
    assert [row["url"] for row in table] == [row["url"] for row in export]
    exported = json.loads(client.get("/commitments.json").getvalue())
    assert set(document) == set(exported)
    assert document["commitments"][0].keys() == exported["commitments"][0].keys()
    assert document["count"] == 3 == len(document["commitments"])
    assert {row["title"] for row in document["commitments"]} == {c.title for c in published}
    assert next(r for r in table if r["title"] == published[0].title)["topics"] == "Crossings"


def test_running_twice_on_one_day_keeps_one_snapshot(snapshot_root, make_commitment):
    make_commitment()
    assert snapshot_write(now=DAY).written
    first = manifest_of(snapshot_root)
    make_commitment()  # the day's snapshot is immutable: a second run does not rewrite it
    again = snapshot_write(now=DAY + datetime.timedelta(hours=20))
    assert not again.written and again.rows == 1
    assert manifest_of(snapshot_root) == first
    assert [p.name for p in snapshot_root.iterdir()] == ["2026-03-14"]


def test_only_the_newest_snapshots_are_kept(snapshot_root, make_commitment):
    make_commitment()
    for day in range(5):
        report = snapshot_write(now=DAY + datetime.timedelta(days=day))
    assert report.pruned == ["2026-03-15"]
    assert sorted(p.name for p in snapshot_root.iterdir()) == [
        "2026-03-16",
        "2026-03-17",
        "2026-03-18",
    ]


def test_the_data_page_lists_the_snapshots_and_serves_their_files(
    client, snapshot_root, make_commitment
):
    assert "No snapshot has been written yet" in client.get("/data/").content.decode()
    make_commitment()
    snapshot_write(now=DAY)
    snapshot_write(now=DAY + datetime.timedelta(days=1))
    html = client.get("/data/").content.decode()
    assert html.index("2026-03-15") < html.index("2026-03-14")  # newest first
    for day in ("2026-03-14", "2026-03-15"):
        for file in manifest_of(snapshot_root, day)["files"]:
            href = f"/data/{day}/{file['name']}"
            assert f'href="{href}"' in html
            assert file["sha256"] in html and f"{file['size']} bytes" in html
            response = client.get(href)
            assert response.status_code == 200
            body = response.getvalue()
            assert hashlib.sha256(body).hexdigest() == file["sha256"]
            assert "immutable" in response["Cache-Control"]
            assert "max-age=31536000" in response["Cache-Control"]
            assert "public" in response["Cache-Control"]
        assert client.get(f"/data/{day}/manifest.json").status_code == 200
    for bad in (
        "/data/2026-03-14/secret.txt",
        "/data/2026-03-14/..%2F..%2Fsettings.py",
        "/data/..%2F/manifest.json",
        "/data/2026-03-13/manifest.json",
        "/data/latest/manifest.json",
    ):
        assert client.get(bad).status_code == 404, bad
    assert client.post("/data/").status_code == 405


def test_the_footer_links_the_data_page(client):
    html = client.get("/").content.decode()
    assert 'href="/data/">dated snapshots</a>' in html


def test_the_task_and_the_command_write_todays_snapshot(snapshot_root, make_commitment):
    make_commitment()
    assert "written: 1 rows" in tasks.write_data_snapshot()
    assert len(list(snapshot_root.iterdir())) == 1
    out = io.StringIO()
    call_command("write_snapshot", stdout=out)
    assert "already there" in out.getvalue()
    schedule = settings.CELERY_BEAT_SCHEDULE["data-snapshot"]
    assert schedule["task"] == "commitments.tasks.write_data_snapshot"
    assert schedule["schedule"] == 24 * 60 * 60
