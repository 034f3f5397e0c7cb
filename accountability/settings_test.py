"""Settings for the test suite (pytest's ``DJANGO_SETTINGS_MODULE``, in pyproject.toml):
the project's settings with what tests need instead. Nothing here may change what a test
asserts about the product; only speed, and what the tests switch on themselves.

Processes the tests start inherit this module through ``DJANGO_SETTINGS_MODULE``; those
that must run as a deploy runs (``tests/embedded.py``) drop it and get the real settings.
"""

from .settings import *  # noqa: F403
from .settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Test clients sign in without a request (client.login), which django-axes refuses; as
# axes' documentation advises, it is off in tests and its own tests turn it on. Two-factor
# sign-in likewise: the tests of it turn it on.
AXES_ENABLED = False
REQUIRE_2FA = False
# Pages render in tests without a `collectstatic` first (pytest-django turns DEBUG off).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The tests' webhook receiver is a local HTTP server on loopback.
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
