"""Sign-in throttling (django-axes) through the real admin login URL.

Axes is off in the test settings (``client.login`` has no request to give it); these
tests turn it on. Failures lock the account and, separately, the address."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

from commitments import roles
from commitments.services import accounts

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "a long pass phrase for tests"


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_MINUTES == 15


@pytest.fixture
def alice():
    return accounts.user_create(username="alice", role=roles.EDITOR, password=PASSWORD)


@pytest.fixture
def bob():
    return accounts.user_create(username="bob", role=roles.EDITOR, password=PASSWORD)


def sign_in(username, password, address):
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password})
    response.signed_in = "_auth_user_id" in client.session
    return response


def hammer(username="alice", address="10.0.0.1", times=40):
    return [sign_in(username, "wrong", address).status_code for _ in range(times)]


def test_forty_wrong_passwords_lock_the_account_and_the_address(alice, bob):
    codes = hammer()
    # The login form again with its error, until the fifth failure locks.
    assert codes[:4] == [200] * 4
    assert set(codes[4:]) == {429}
    refused = sign_in("alice", PASSWORD, "10.0.0.1")
    assert refused.status_code == 429 and not refused.signed_in
    text = refused.content.decode()
    assert "Too many failed sign-ins for this account or address" in text
    assert "try again after 15 minutes or ask an Admin to unlock it" in text
    # Per parameter: the account is locked from anywhere, the address for anyone...
    assert not sign_in("alice", PASSWORD, "10.0.0.9").signed_in
    assert not sign_in("bob", PASSWORD, "10.0.0.1").signed_in
    # ...and another account from another address is unaffected.
    other = sign_in("bob", PASSWORD, "10.0.0.2")
    assert other.status_code == 302 and other.signed_in


def test_fewer_failures_than_the_limit_lock_nothing(alice):
    hammer(times=4)
    assert sign_in("alice", PASSWORD, "10.0.0.1").signed_in


def test_the_lock_lifts_after_the_cool_off(alice):
    hammer()
    assert not sign_in("alice", PASSWORD, "10.0.0.1").signed_in
    AccessAttempt.objects.update(attempt_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    assert sign_in("alice", PASSWORD, "10.0.0.1").signed_in


def test_the_cool_off_comes_from_settings(alice, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
    hammer()
    ago = datetime.timedelta(minutes=20)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - ago)
    assert not sign_in("alice", PASSWORD, "10.0.0.1").signed_in


def test_an_admin_unlocks_a_locked_account(alice, role_client):
    hammer()
    attempt = AccessAttempt.objects.get(username="alice")
    editor = role_client(roles.EDITOR)
    assert editor.get("/admin/axes/accessattempt/").status_code == 403
    editor.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert not sign_in("alice", PASSWORD, "10.0.0.1").signed_in

    admin = role_client(roles.ADMIN)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert sign_in("alice", PASSWORD, "10.0.0.1").signed_in
    assert User.objects.get(username="alice").is_active


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(alice, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def through_proxy(username, password, client_address, forged="1.1.1.1"):
        client = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=f"{forged}, {client_address}")
        client.post(LOGIN, {"username": username, "password": password})
        return "_auth_user_id" in client.session

    for _ in range(5):
        through_proxy("nobody", "wrong", "203.0.113.5", forged="198.51.100.1")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"
    assert not through_proxy("alice", PASSWORD, "203.0.113.5")  # that address is locked
    assert through_proxy("bob", PASSWORD, "203.0.113.6")  # the proxy's own is not
