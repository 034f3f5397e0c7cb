"""Small checks that keep what the site writes out from being turned against its readers:
web addresses that may become links, and spreadsheet cells that must not run as formulas.

Nothing here imports the app's models, so models, services, views and templates can all
use it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
#: What a database CheckConstraint accepts (PostgreSQL ``~*``): the same rule as
#: ``is_web_address`` without the host check.
WEB_ADDRESS_REGEX = r"^https?://[^/?#\s]"

# OWASP, "CSV Injection": a cell starting with one of these may be run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_web_address(value: object) -> bool:
    """True for an absolute http(s) address with a host, exactly as given: no leading
    space or control character (a browser strips those and then runs ``javascript:``),
    no other scheme in any letter case."""
    if not isinstance(value, str) or not value:
        return False
    if any(ord(char) <= 32 or ord(char) == 127 for char in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def safe_href(value: object) -> str:
    """The address when it may be a link (see ``is_web_address``), otherwise ""."""
    return value if is_web_address(value) else ""  # type: ignore[return-value]


def same_site(url: str, other: str) -> bool:
    """True when ``url`` is an http(s) address on the host and port of ``other``."""
    if not is_web_address(url):
        return False
    a, b = urlsplit(url), urlsplit(other)
    try:
        port_a = a.port or DEFAULT_PORTS[a.scheme.lower()]
        port_b = b.port or DEFAULT_PORTS.get(b.scheme.lower())
    except ValueError:
        return False
    return (a.hostname or "") == (b.hostname or "") and port_a == port_b


def spreadsheet_cell(value):
    """A CSV cell that a spreadsheet shows as text: a string starting like a formula gets a
    leading ``'``. Numbers (int, float, Decimal) are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# --- Highlighted search matches -----------------------------------------------------------
#: ``ts_headline``'s markers around a matched word (its StartSel and StopSel): characters
#: from Unicode's private use area, which editors do not type and escaping leaves alone.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"


def highlighted_html(value: str) -> str:
    """A headline as HTML: the whole text escaped, then each marked word in ``<mark>``.
    Only a start marker followed by its stop marker becomes a pair of tags, so the result
    is always balanced; any other marker character is dropped. The caller marks the result
    safe (``tracker.highlighted``)."""
    import re
    from html import escape

    text = escape(value or "", quote=True)
    text = re.sub(
        f"{HIGHLIGHT_START}([^{HIGHLIGHT_START}{HIGHLIGHT_STOP}]*){HIGHLIGHT_STOP}",
        r"<mark>\1</mark>",
        text,
    )
    return text.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")
