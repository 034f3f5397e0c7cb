"""What every answer carries: a Content-Security-Policy with nothing inline on public
pages (only the embed card may be framed, only the admin may use inline styles), a
Permissions-Policy, and gzip for cookie-less public pages only. Plus the two error pages."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.views import defaults

from commitments.models import Commitment

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PUBLIC_PAGES = [
    "/",
    "/commitments/",
    "/commitments/?q=boats",
    "/corrections/",
    "/api/docs",
    "/no-such-page/",
]


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def commitment(seeded):
    return Commitment.objects.public().first()


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_a_policy_with_nothing_inline(client, commitment, path):
    response = client.get(path)
    policy = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_commitment_page_has_the_policy_and_only_the_embed_may_be_framed(client, commitment):
    page = client.get(commitment.get_absolute_url())
    assert directives(page["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert page["X-Frame-Options"] == "DENY"
    embed = client.get(f"{commitment.get_absolute_url()}embed/")
    assert embed.status_code == 200
    policy = directives(embed["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["*"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert "X-Frame-Options" not in embed


@pytest.mark.django_db
def test_the_admin_alone_may_use_inline_styles_never_inline_scripts(client):
    response = client.get("/admin/login/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]


def test_templates_hold_no_inline_script_style_or_event_handler():
    """What the policy forbids, caught before a browser does (the admin's own are exempt).
    Emails (``templates/**/mail/``) may hold inline styles, and only those: no page, no
    CSP, and mail programs drop ``<style>`` and classes; scripts stay forbidden there."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        folders = template.relative_to(TEMPLATES).parts[:-1]
        if folders and folders[0] == "admin":
            continue
        patterns = [
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>",
            r"\son[a-z]+=",
            r"javascript:",
        ]
        if "mail" not in folders:
            patterns += [r"<style\b", r"\sstyle="]
        text = template.read_text()
        for pattern in patterns:
            offenders += [f"{template.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not offenders


@pytest.mark.django_db
def test_public_html_is_compressed_for_cookie_less_readers_only(client, commitment):
    page = client.get("/commitments/", headers={"accept-encoding": "gzip"})
    assert page["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page["Vary"]
    assert b"one in, one out" in gzip.decompress(page.content)

    client.cookies["sessionid"] = "anything"
    with_cookie = client.get("/commitments/", headers={"accept-encoding": "gzip"})
    assert not with_cookie.has_header("Content-Encoding")
    assert b"one in, one out" in with_cookie.content


@pytest.mark.django_db
def test_admin_pages_are_never_compressed(client):
    response = client.get("/admin/login/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")


def test_the_500_page_is_the_products_own_and_needs_no_database():
    """No django_db mark: any query here raises, so the page must render without one."""
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'href="/commitments/"' in html


@pytest.mark.django_db
def test_the_404_page_is_the_products_own(client):
    response = client.get("/commitments/no-such-commitment/")
    assert response.status_code == 404
    assert "There is no page at this address" in response.content.decode()
