"""Signing in to the admin: throttling (django-axes) and two-factor sign-in (django-otp, TOTP).

- The admin login form asks for a code from an authenticator app, needed once the account
  has a confirmed device (``AdminLoginForm``).
- Every staff user can enrol an app at ``/admin/two-factor/`` (``two_factor``): a QR code
  and the secret are shown, and the device counts once a code from it is confirmed.
- With ``REQUIRE_2FA`` on, Publishers, Admins and superusers are sent to that page until
  they have a confirmed device and have entered a code this session
  (``RequireTwoFactorMiddleware``). Editors may enrol but are not forced.
- Too many failed sign-ins lock the account and the address (``lockout_response``).

Owns the sign-in pages and their rule (``two_factor_required``). Must not write accounts
or devices itself: ``services/accounts.py`` confirms a device.
"""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import show_service_errors
from .roles import TWO_FACTOR_ROLES
from .services.accounts import device_confirm, device_for_enrolment

# --- Rules ------------------------------------------------------------------------------


def two_factor_required(user) -> bool:
    """Must this user have verified a device this session to use the admin?"""
    if not (settings.REQUIRE_2FA and user.is_authenticated and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name__in=TWO_FACTOR_ROLES).exists()


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


# --- Login form -------------------------------------------------------------------------


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form plus the code from an authenticator app, needed once the
    account has a confirmed device. A right code marks the session verified (django-otp
    stores ``user.otp_device`` in the session on login)."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        help_text=_("Needed once you have set up two-factor sign-in."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = confirmed_device(user) if user else None
        if device is None:
            return cleaned
        token = (cleaned.get("otp_token") or "").strip()
        if not token:
            raise ValidationError(
                {"otp_token": _("Enter the code from your authenticator app.")}
            )
        if not device.verify_token(token):
            raise ValidationError(
                {"otp_token": _("This code is not right (or was used already). Try the next.")}
            )
        user.otp_device = device
        return cleaned


# --- The two-factor page ----------------------------------------------------------------


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("admin:index")


@staff_member_required
def two_factor(request):
    """Enrol an authenticator app, or (enrolled) verify this session with a code."""
    user = request.user
    device = confirmed_device(user)
    verified = user.is_verified()
    enrolling = device is None
    if enrolling:
        device = device_for_enrolment(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        try:
            if enrolling:
                device_confirm(device=device, token=token)
            elif not device.verify_token(token):
                raise ValidationError({"token": _("This code is not right. Try the next one.")})
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            otp_login(request, device)
            if enrolling:
                messages.success(request, _("Two-factor sign-in is on for your account."))
            return redirect(_next_url(request))
    context = {
        **admin.site.each_context(request),
        "title": _("Two-factor sign-in"),
        "form": form,
        "enrolling": enrolling,
        "verified": verified,
        "required": two_factor_required(user),
        "next": _next_url(request),
    }
    if enrolling:
        context.update(
            uri=device.config_url,
            secret=base64.b32encode(device.bin_key).decode(),
            qr_svg=_qr_svg(device.config_url),
        )
    return render(request, "admin/two_factor.html", context)


class RequireTwoFactorMiddleware:
    """With ``REQUIRE_2FA`` on: admin pages send Publishers, Admins and superusers who
    have not verified this session to the two-factor page (to enrol, or to enter a code).
    After ``django_otp``'s ``OTPMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.REQUIRE_2FA and self._guarded(request.path):
            user = request.user
            if two_factor_required(user) and not user.is_verified():
                url = reverse("two_factor")
                return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _guarded(path: str) -> bool:
        if not path.startswith(reverse("admin:index")):
            return False
        exempt = (reverse("two_factor"), reverse("admin:logout"), reverse("admin:login"))
        return not path.startswith(exempt)


# --- Throttling (django-axes) -----------------------------------------------------------


def client_ip(request) -> str | None:
    """The address a sign-in comes from (``AXES_CLIENT_IP_CALLABLE``): with
    ``TRUSTED_PROXY_COUNT`` proxies in front, the entry the outermost one appended to
    X-Forwarded-For (entries further left can be forged by the client)."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page shown to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``), status 429."""
    return render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "title": _("Sign-in locked"),
            "minutes": settings.AXES_COOLOFF_MINUTES,
        },
        status=429,
    )
