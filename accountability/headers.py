"""Response headers every page gets: Content-Security-Policy (django-csp, with the two
exceptions the site needs), Permissions-Policy, and gzip for public pages only.

Owns the headers only: which pages are public and cacheable is ``commitments/caching.py``'s
decision, and no header here may be relaxed per view except through django-csp's
decorators.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.middleware.gzip import GZipMiddleware

from commitments.middleware import path_without_language

ADMIN_PREFIX = "/admin/"
# The embed card is the one page other sites may frame (X-Frame-Options is lifted there too).
FRAMEABLE_VIEWS = {"commitments:commitment_embed"}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with two exceptions chosen by path, not by decorating views:
    Django's admin uses inline ``style`` attributes, and the embed card may be framed."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        replace = dict(parts.replace or {})
        if path_without_language(request.path_info).startswith(ADMIN_PREFIX):
            replace.setdefault("style-src", ["'self'", "'unsafe-inline'"])
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in FRAMEABLE_VIEWS:
            replace["frame-ancestors"] = ["*"]
        parts.replace = replace or None
        return parts


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` from settings.PERMISSIONS_POLICY: feature -> allowed origins."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class PublicGZipMiddleware(GZipMiddleware):
    """Django's gzip for what the public reads, and nothing else. BREACH needs a secret and
    text an attacker chooses in one compressed answer: a request without cookies, outside
    the admin, that sets no cookie carries no secret (no session, no CSRF token), so only
    those are compressed. Signed-in staff get their pages uncompressed."""

    def process_response(self, request, response):
        if (
            request.COOKIES
            or response.cookies
            or path_without_language(request.path_info).startswith(ADMIN_PREFIX)
        ):
            return response
        if response.get("Content-Type", "").startswith("image/"):
            return response  # a PNG (the preview image) is compressed already

        return super().process_response(request, response)
