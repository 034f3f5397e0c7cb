"""The public pages under wrk, as ratios to a bare Django view on the same server.

    make bench-web                      # seed data, 10,000 and 100,000 commitments
    .venv/bin/python bench/web.py --sizes seed,10000 --rounds 3 --seconds 5

For each data size it builds its own PostgreSQL database (``accountability_bench_web`` on
the ``DATABASE_URL`` server, dropped and rebuilt: never the one in use), starts the
production server exactly as the Procfile's ``web`` line does (``DEBUG=0``, static
manifest built), with a bare view added for the run (``BENCH_BARE_VIEW=1`` adds
``/__bench__/bare/``: a view that returns a few bytes, the reference), then for every
public page runs wrk (Debian's package) in A B A B order: bare view, page, bare view,
page, ... for ``--rounds`` rounds, and prints the medians of req/s, p50 and p99 and the
ratio of the page's req/s to the bare view's. Each mode in ``--modes`` restarts the
server with its own environment: ``cached`` as configured, ``uncached`` with
``PUBLIC_CACHE=0``. Then it times the full CSV and JSON exports (first byte, whole body,
server memory before and after).

It asserts nothing: a benchmark, not a test. The machine is shared and noisy; read the
ratios, not the absolute figures. Requests only go to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DB_NAME = "accountability_bench_web"

PAGES = {
    "home": "/",
    "list": "/commitments/",
    "search": "/commitments/?q=border",
    "person search": "/commitments/?q=Bench+actor+17",
    "commitment": "/commitments/bench-17/",
    "actor": "/actors/bench-actor-3/",
    "actors": "/actors/",
    "methodology": "/methodology/",
    "feed": "/feeds/changes/",
    "json feed": "/feeds/changes/json/",
    "api list": "/api/commitments",
}
SEED_PAGES = {
    "commitment": "/commitments/french-maritime-doctrine-shallow-waters/",
    "actor": "/actors/keir-starmer/",
    "person search": "/commitments/?q=Macron",
}
BARE = "/__bench__/bare/"

# Bench data in SQL, in one pass per table: actors, topics and sources in small pools;
# each commitment with two actors, a topic, two status updates citing a source, a statement.
GENERATE = """
INSERT INTO commitments_actor (name, slug, kind, country, role, description)
SELECT 'Bench actor ' || g, 'bench-actor-' || g, 'person', 'GB', '', ''
FROM generate_series(1, 200) AS g;
INSERT INTO commitments_topic (name, slug, description)
SELECT 'Bench topic ' || g, 'bench-topic-' || g, '' FROM generate_series(1, 20) AS g;
INSERT INTO commitments_source (url, title, outlet, author, published_on, published_precision,
    kind, language, notes, archive_url, archive_attempts, archive_error, link_status,
    final_url, last_check_error, consecutive_failures, created_at)
SELECT 'https://news.example.org/bench-' || g, 'Bench report ' || g, 'Bench News', '',
    current_date - (g %% 400), 'day', 'news_report', 'en', '', '', 0, '', 'ok', '', '', 0, now()
FROM generate_series(1, 1000) AS g;
INSERT INTO commitments_commitment (title, slug, summary, original_wording, made_on,
    made_precision, made_where, deadline, deadline_precision, status, status_since,
    status_since_precision, is_published, published_at, created_at, updated_at, made_in_id)
SELECT 'Bench promise ' || g || ' about the '
        || (ARRAY['border', 'harbour', 'ferry', 'coast'])[g %% 4 + 1],
    'bench-' || g, 'What was promised, number ' || g || ', on border patrols.', 'We will act.',
    current_date - 400 - (g %% 300), 'day', '',
    CASE WHEN g %% 3 = 0 THEN current_date + (g %% 200) END, 'day',
    (ARRAY['not_started', 'in_progress', 'stalled', 'partially_kept', 'kept', 'broken',
           'unclear'])[g %% 7 + 1],
    current_date - (g %% 390), 'day', true, now(), now(), now(),
    (SELECT min(id) FROM commitments_source)
FROM generate_series(1, %(n)s) AS g;
INSERT INTO commitments_commitmentactor (commitment_id, actor_id, role)
SELECT c.id, a.id, 'made_by' FROM commitments_commitment c
JOIN commitments_actor a ON a.slug = 'bench-actor-' || (c.id %% 200 + 1)
WHERE c.slug LIKE 'bench-%%'
UNION ALL
SELECT c.id, a.id, 'responsible' FROM commitments_commitment c
JOIN commitments_actor a ON a.slug = 'bench-actor-' || ((c.id * 7) %% 200 + 1)
WHERE c.slug LIKE 'bench-%%' AND (c.id %% 200) <> ((c.id * 7) %% 200);
INSERT INTO commitments_commitment_topics (commitment_id, topic_id)
SELECT c.id, t.id FROM commitments_commitment c
JOIN commitments_topic t ON t.slug = 'bench-topic-' || (c.id %% 20 + 1)
WHERE c.slug LIKE 'bench-%%';
INSERT INTO commitments_statusupdate (commitment_id, status, effective_on, effective_precision,
    description, recorded_at, correction_note)
SELECT id, 'not_started', made_on, 'day', 'First step of a bench promise.', now(), ''
FROM commitments_commitment WHERE slug LIKE 'bench-%%'
UNION ALL
SELECT id, status, status_since, 'day', 'Latest step of a bench promise.', now(), ''
FROM commitments_commitment WHERE slug LIKE 'bench-%%';
INSERT INTO commitments_statusupdate_sources (statusupdate_id, source_id)
SELECT u.id, s.id FROM commitments_statusupdate u
JOIN commitments_source s ON s.url = 'https://news.example.org/bench-' || (u.id %% 1000 + 1)
WHERE u.description LIKE '%%bench promise.';
INSERT INTO commitments_flag (commitment_id, reason, raised_at, since, since_precision,
    details, acknowledgement_note, resolution_note)
SELECT id, 'no_recent_progress', now(), status_since, 'day', '', '', ''
FROM commitments_commitment WHERE slug LIKE 'bench-%%' AND id %% 10 = 0;
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_urls() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accountability")
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    bench = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    return admin, bench


def run(*args, env=None, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=env, check=True, **kwargs)


def build_database(size: str, env: dict) -> None:
    import psycopg

    admin_url, bench_url = database_urls()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    run(PYTHON, "manage.py", "migrate", "--noinput", "-v0", env=env)
    run(PYTHON, "manage.py", "load_seeds", env=env, stdout=subprocess.DEVNULL)
    if size != "seed":
        with psycopg.connect(bench_url, autocommit=True) as conn:
            start = time.perf_counter()
            with conn.transaction():
                for statement in GENERATE.split(";\n"):
                    if statement.strip():
                        conn.execute(statement, {"n": int(size)})
            conn.execute("VACUUM ANALYZE")
            print(f"  generated {int(size):,} commitments in {time.perf_counter() - start:.1f} s")
    run(PYTHON, "manage.py", "refresh_flags", env=env, stdout=subprocess.DEVNULL)


def web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("No web line in the Procfile.")


class Server:
    """The Procfile's web process, started with its own environment; stopped with its
    whole process group."""

    def __init__(self, env: dict):
        self.env = env
        self.port = int(env["WEB_PORT"])
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {web_command()}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _body = fetch(self.port, BARE)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit("The server did not answer the bare view within 60 s.")

    def rss_mb(self) -> float:
        """Resident memory of the server and its children, in MB."""
        total = 0
        pids = [self.process.pid]
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        pids += [int(p) for p in out.split()]
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            total += int(match.group(1)) if match else 0
        return total / 1024

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def fetch(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wrk(port: int, path: str, seconds: int, connections: int) -> tuple[float, float, float]:
    """req/s, p50 ms, p99 ms."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        print(f"    ! {non_2xx.group(1)} non-2xx answers for {path}")
    return rps, percentile("50"), percentile("99")


def measure(port: int, pages: dict, rounds: int, seconds: int, connections: int) -> list:
    rows = []
    for name, path in pages.items():
        status, _body = fetch(port, path)
        if status != 200:
            print(f"    ! {name} {path} answered {status}; skipped")
            continue
        bare, page = [], []
        for _round in range(rounds):  # A B A B ...
            bare.append(wrk(port, BARE, seconds, connections))
            page.append(wrk(port, path, seconds, connections))
        med = lambda runs, i: statistics.median(r[i] for r in runs)  # noqa: E731
        rows.append((name, med(page, 0), med(page, 1), med(page, 2), med(bare, 0)))
    return rows


def time_export(server: Server, path: str) -> str:
    before = server.rss_mb()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - start
    size = len(first)
    while chunk := response.read(1 << 16):
        size += len(chunk)
    total = time.perf_counter() - start
    conn.close()
    after = server.rss_mb()
    return (
        f"{path}: status {response.status}, first byte {first_byte:.2f} s, whole "
        f"{total:.1f} s, {size / 1e6:.1f} MB; server RSS {before:.0f} -> {after:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="seed,10000,100000")
    parser.add_argument("--modes", default="cached,uncached")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (Debian's package).")
    _admin, bench_url = database_urls()
    var = ROOT / "var" / "bench-web"
    var.mkdir(parents=True, exist_ok=True)
    base_env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-web-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "BENCH_BARE_VIEW": "1",
        "VAR_DIR": str(var),
        "WEB_HOST": "127.0.0.1",
        "PATH": f"{Path(PYTHON).parent}:{os.environ.get('PATH', '')}",
    }
    run(PYTHON, "manage.py", "collectstatic", "--noinput", "-v0", env=base_env)
    print(f"server: {web_command()}")
    print(f"wrk: 2 threads, {args.connections} connections, {args.seconds} s a run, "
          f"{args.rounds} rounds A B A B, medians\n")
    for size in args.sizes.split(","):
        print(f"== data: {size}")
        build_database(size, base_env)
        pages = {**PAGES, **(SEED_PAGES if size == "seed" else {})}
        for mode in args.modes.split(","):
            env = {**base_env, "WEB_PORT": str(free_port())}
            if mode == "uncached":
                env["PUBLIC_CACHE"] = "0"
            server = Server(env)
            try:
                rows = measure(server.port, pages, args.rounds, args.seconds, args.connections)
                print(f"  {mode}:")
                print(f"    {'page':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
                      f"{'bare req/s':>12}{'ratio':>8}")
                for name, rps, p50, p99, bare in rows:
                    print(f"    {name:<12}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{bare:>12.0f}"
                          f"{rps / bare:>8.2f}")
                if mode == args.modes.split(",")[0]:
                    for path in ("/commitments.csv", "/commitments.json"):
                        print("    " + time_export(server, path))
            finally:
                server.stop()
        print()


if __name__ == "__main__":
    main()
