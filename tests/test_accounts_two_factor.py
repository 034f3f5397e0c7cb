"""Two-factor sign-in (TOTP) through the real admin URLs, with codes computed here as an
authenticator app computes them."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from commitments import roles
from commitments.services import accounts

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
SETUP = "/admin/two-factor/"
PASSWORD = "a long pass phrase for tests"


@pytest.fixture
def require_2fa(settings):
    settings.REQUIRE_2FA = True


def code(device, *, steps_ahead=0) -> str:
    """The code the app shows now (or ``steps_ahead`` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device) -> str:
    right = {code(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def account(role):
    username = f"{(role or 'superuser').lower()}-2fa"
    if role is None:
        from django.contrib.auth.models import User

        return User.objects.create_superuser(username, "", PASSWORD)
    return accounts.user_create(username=username, role=role, password=PASSWORD)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def sign_in(user, token=None):
    client = Client()
    data = {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    response = client.post(LOGIN, data)
    client.signed_in = "_auth_user_id" in client.session
    return client, response


# --- Login with a code ------------------------------------------------------------------


def test_an_enrolled_account_needs_the_right_code_to_sign_in(require_2fa):
    user = account(roles.PUBLISHER)
    device = enrolled(user)
    client, response = sign_in(user)
    assert not client.signed_in and "Enter the code from your authenticator app" in (
        response.content.decode()
    )
    client, response = sign_in(user, wrong_code(device))
    assert response.status_code == 200 and not client.signed_in
    assert "This code is not right" in response.content.decode()

    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the device wait a second before the next
    client, response = sign_in(user, code(device))
    assert response.status_code == 302 and client.signed_in
    assert client.get("/admin/").status_code == 200  # verified this session


def test_a_code_is_good_only_once(require_2fa):
    user = account(roles.ADMIN)
    device = enrolled(user)
    token = code(device)
    assert sign_in(user, token)[0].signed_in
    device.refresh_from_db()
    assert not sign_in(user, token)[0].signed_in


def test_another_accounts_device_does_not_open_this_one(require_2fa):
    user, other = account(roles.PUBLISHER), account(roles.EDITOR)
    enrolled(user)
    assert not sign_in(user, code(enrolled(other)))[0].signed_in


# --- Required, or not -------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.PUBLISHER, roles.ADMIN, None])
def test_required_and_missing_sends_to_enrolment(require_2fa, role):
    user = account(role)
    client, response = sign_in(user)
    assert client.signed_in and response["Location"] == "/admin/"
    for page in ["/admin/", "/admin/commitments/commitment/", "/admin/auth/user/"]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(f"{SETUP}?next=")
    assert client.get(SETUP).status_code == 200


def test_enrolled_but_not_verified_this_session_must_enter_a_code(require_2fa):
    user = account(roles.PUBLISHER)
    device = enrolled(user)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/")["Location"].startswith(SETUP)
    page = client.get(SETUP).content.decode()
    assert "otpauth://" not in page and "Enter the code" in page
    assert TOTPDevice.objects.filter(user=user).count() == 1
    response = client.post(SETUP, {"token": code(device), "next": "/admin/auth/user/"})
    assert response["Location"] == "/admin/auth/user/"
    assert client.get("/admin/").status_code == 200


def test_not_required_lets_an_editor_in(require_2fa):
    client, response = sign_in(account(roles.EDITOR))
    assert client.signed_in and client.get("/admin/").status_code == 200


def test_switched_off_lets_a_publisher_in_without_a_device(settings):
    settings.REQUIRE_2FA = False
    client, _response = sign_in(account(roles.PUBLISHER))
    assert client.get("/admin/").status_code == 200


# --- Enrolment --------------------------------------------------------------------------


def test_enrolment_shows_the_app_setup_and_counts_only_once_confirmed(require_2fa):
    user = account(roles.PUBLISHER)
    client = Client()
    client.force_login(user)
    page = client.get(SETUP)
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert page.context["uri"].startswith("otpauth://totp/") and "secret=" in page.context["uri"]
    assert page.context["secret"] in html and "<svg" in html and "otpauth://" in html

    response = client.post(SETUP, {"token": wrong_code(device)})
    assert response.status_code == 200 and "This code does not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/")["Location"].startswith(SETUP)

    device.throttle_reset()
    response = client.post(SETUP, {"token": code(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200

    # From now on the login asks for a code; the one just used does not count twice.
    assert not sign_in(user)[0].signed_in
    assert sign_in(user, code(device, steps_ahead=1))[0].signed_in


def test_an_editor_may_enrol(require_2fa):
    client = Client()
    client.force_login(account(roles.EDITOR))
    page = client.get(SETUP)
    assert page.status_code == 200 and "otpauth://" in page.content.decode()
    assert "Your role needs two-factor sign-in" not in page.content.decode()


def test_the_setup_page_is_for_staff_only(client, django_user_model):
    assert client.get(SETUP)["Location"].startswith(LOGIN)
    client.force_login(django_user_model.objects.create_user("reader", password=PASSWORD))
    assert client.get(SETUP)["Location"].startswith(LOGIN)
    assert not TOTPDevice.objects.exists()


def test_the_next_address_stays_on_this_site(require_2fa):
    user = account(roles.PUBLISHER)
    device = enrolled(user)
    client = Client()
    client.force_login(user)
    response = client.post(SETUP, {"token": code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"
