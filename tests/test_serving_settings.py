"""Production by default, in fresh processes as a deploy starts them: the HTTPS-only
settings follow SITE_URL's scheme, SITE_URL follows the address served, X-Forwarded-Proto
is believed only behind a trusted proxy."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.embedded import ROOT, embedded_environment, manage

SHOW = (
    "import json; from django.conf import settings as s; print('SETTINGS', json.dumps({"
    "'debug': s.DEBUG, 'site': s.SITE_URL, 'redirect': s.SECURE_SSL_REDIRECT, "
    "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, "
    "'hsts': s.SECURE_HSTS_SECONDS, 'proxy': s.SECURE_PROXY_SSL_HEADER}))"
)
HTTPS_ON = {"redirect": True, "session": True, "csrf": True, "hsts": 60 * 60 * 24 * 30}
HTTPS_OFF = {"redirect": False, "session": False, "csrf": False, "hsts": 0}


def settings_with(tmp_path, **variables) -> dict:
    env = embedded_environment(tmp_path) | variables
    for name in ("DEBUG", "SITE_URL", "WEB_HOST", "WEB_PORT", "TRUSTED_PROXY"):
        if name not in variables:
            env.pop(name, None)
    out = manage(env, "shell", "--no-imports", "-c", SHOW)
    line = next(line for line in out.splitlines() if line.startswith("SETTINGS "))
    return json.loads(line.removeprefix("SETTINGS "))


def test_no_variables_is_production_on_plain_http_at_the_served_address(tmp_path):
    values = settings_with(tmp_path)
    assert values["debug"] is False
    assert values["site"] == "http://127.0.0.1:8000"
    assert {key: values[key] for key in HTTPS_OFF} == HTTPS_OFF
    assert values["proxy"] is None


def test_site_url_follows_the_port_and_host_served(tmp_path):
    assert settings_with(tmp_path, WEB_PORT="8811")["site"] == "http://127.0.0.1:8811"
    served = settings_with(tmp_path, WEB_HOST="0.0.0.0", WEB_PORT="9000")
    assert served["site"] == "http://localhost:9000"
    given = settings_with(tmp_path, WEB_PORT="8811", SITE_URL="https://tracker.example.org/")
    assert given["site"] == "https://tracker.example.org"


@pytest.mark.parametrize(
    ("site_url", "expected"),
    [("https://tracker.example.org", HTTPS_ON), ("http://tracker.example.org", HTTPS_OFF)],
)
def test_https_only_settings_follow_the_site_url_scheme(tmp_path, site_url, expected):
    values = settings_with(tmp_path, SITE_URL=site_url)
    assert {key: values[key] for key in expected} == expected


def test_each_https_setting_can_still_be_set(tmp_path):
    values = settings_with(
        tmp_path, SITE_URL="https://tracker.example.org", SECURE_SSL_REDIRECT="0"
    )
    assert values["redirect"] is False
    assert values["session"] is True


def test_forwarded_proto_is_believed_only_behind_a_trusted_proxy(tmp_path):
    assert settings_with(tmp_path, SITE_URL="https://t.example.org")["proxy"] is None
    trusted = settings_with(tmp_path, SITE_URL="https://t.example.org", TRUSTED_PROXY="1")
    assert trusted["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_debug_is_on_only_when_asked(tmp_path):
    assert settings_with(tmp_path, DEBUG="1")["debug"] is True
    assert settings_with(tmp_path, DEBUG="0")["debug"] is False


def test_deploy_check_over_plain_http_names_only_the_https_settings(tmp_path):
    """With an https SITE_URL the check is clean (tests/test_embedded.py); over plain http
    it must still name exactly what https would switch on, and nothing else."""
    env = embedded_environment(tmp_path) | {"ALLOWED_HOSTS": "tracker.example.org"}
    for name in ("DEBUG", "SITE_URL", "SECRET_KEY"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    named = set(re.findall(r"\(security\.(W\d+)\)", result.stdout + result.stderr))
    assert named == {"W004", "W008", "W012", "W016"}
