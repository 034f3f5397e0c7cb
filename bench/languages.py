"""Does a page cost more in French? Uncached render time of the public pages at /fr/...
over the same pages in English, in-process (Django's test client, the page cache off), on
the database DATABASE_URL names once its seeds are loaded (``manage.py load_seeds``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accountability \\
        .venv/bin/python bench/languages.py

A B A B per round (English, French, English, French), three rounds; prints each round's
milliseconds per page and the ratio French / English, then the median ratio. The machine
is shared and noisy: only the ratio means anything.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from commitments.models import Commitment  # noqa: E402

ROUNDS = 3
REPEATS = 30


def main() -> None:
    settings.PUBLIC_CACHE = False  # every request renders
    commitment = Commitment.objects.public().order_by("pk").first()
    if commitment is None:
        sys.exit("No published commitment: run `manage.py load_seeds` first.")
    paths = [
        "/",
        "/commitments/",
        f"/commitments/{commitment.slug}/",
        "/actors/",
        "/commitments/?q=prefecture",
    ]
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else None)

    def run(prefix: str) -> float:
        started = time.perf_counter()
        for _ in range(REPEATS):
            for path in paths:
                response = client.get(prefix + path)
                if response.status_code != 200:
                    sys.exit(f"{prefix}{path} answered {response.status_code}")
        return (time.perf_counter() - started) * 1000 / (REPEATS * len(paths))

    run("")
    run("/fr")  # warm both
    ratios = []
    for number in range(1, ROUNDS + 1):
        english = [run(""), None]
        french = [run("/fr"), None]
        english[1], french[1] = run(""), run("/fr")
        en, fr = sum(english) / 2, sum(french) / 2
        ratios.append(fr / en)
        print(
            f"round {number}: English {en:.1f} ms/page, French {fr:.1f} ms/page, "
            f"ratio {fr / en:.3f}"
        )
    print(f"median ratio French / English: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
