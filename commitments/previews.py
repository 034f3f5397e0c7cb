"""A commitment's social preview image: a 1200 x 630 PNG drawn with Pillow, showing the
site's name, the commitment's title, its status in the badge's colour with "as of", and
its open flags; what link previews (Open Graph, oEmbed thumbnails) show.

The image depends only on what it draws, so its fingerprint (a hash of those values) is
its cache key in Django's cache and its ETag: a status change, a new title or a flag
raised or resolved draws a new image; nothing else does.

Must not query the database (the view passes a commitment read through ``selectors``,
its open flags prefetched) and must not decide what is public.
"""

from __future__ import annotations

import hashlib
import io
import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language, gettext, ngettext, pgettext
from PIL import Image, ImageDraw, ImageFont

from . import languages
from .dates import DatePrecision
from .embeds import PREVIEW_HEIGHT, PREVIEW_WIDTH

logger = logging.getLogger(__name__)

#: Bump when the drawing changes, so cached images of the old design are not served.
DRAWING_VERSION = "1"
#: How long a drawn image stays in the cache (its key changes when what it shows does).
CACHE_SECONDS = 7 * 24 * 60 * 60
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR_FONT, BOLD_FONT = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"

#: The badges' colours (static/css/site.css's custom properties).
STATUS_COLOURS = {
    "not_started": "#6b6b6b",
    "in_progress": "#0b5cad",
    "stalled": "#a35200",
    "partially_kept": "#6a4c93",
    "kept": "#1d7a3a",
    "broken": "#b3261e",
    "unclear": "#444444",
}
INK, MUTED, PAPER, RULE = "#1b1b1b", "#555555", "#ffffff", "#d8d8d8"
FLAG_BAR, FLAG_BACKGROUND = "#a35200", "#fff4e5"
MARGIN = 72
TITLE_SIZE, TITLE_LINES = 60, 4
MAX_FLAGS = 2


def preview_facts(commitment) -> dict:
    """Everything the image shows, as plain values: its fingerprint is a hash of these.
    ``commitment.open_flags`` is prefetched (``selectors.public_commitment_or_404``)."""
    return {
        # The image's words are in the page's language: another language, another image.
        "language": get_language() or settings.LANGUAGE_CODE,
        "site": settings.SITE_NAME,
        "title": str(languages.translated(commitment, "title")),
        "status": commitment.status,
        "label": str(commitment.get_status_display()),
        "as_of": _as_of(commitment) if commitment.status_since else "",
        "flags": [flag.plain_words() for flag in commitment.open_flags],
    }


def _as_of(commitment) -> str:
    """ "as of October 2025", "depuis le 24 octobre 2025": the status's date, worded."""
    date = commitment.vague("status_since")
    if commitment.status_since_precision == DatePrecision.DAY:
        return pgettext("a date known to the day", "as of %(date)s") % {"date": date}
    return gettext("as of %(date)s") % {"date": date}


def fingerprint(facts: dict) -> str:
    parts = [DRAWING_VERSION, facts.get("language", ""), facts["site"], facts["title"]]
    parts += [facts["status"], facts["label"]]
    parts += [facts["as_of"], *facts["flags"]]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=32)
def _font(size: int, *, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu (Debian's fonts-dejavu-core) when installed, else Pillow's own font."""
    path = FONT_DIR / (BOLD_FONT if bold else REGULAR_FONT)
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        try:
            return ImageFont.load_default(size=size)
        except Exception:  # noqa: BLE001 (no FreeType: the fixed bitmap font)
            return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """``text`` in lines no wider than ``width``, at most ``max_lines``, the last one
    ending in an ellipsis when the text was cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while draw.textlength(current, font=font) > width:  # a word longer than a line
            cut = len(current)
            while cut > 1 and draw.textlength(current[:cut], font=font) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1].rstrip()
    kept[-1] = last + "…"
    return kept


def _line_height(font) -> int:
    left, top, right, bottom = font.getbbox("Ág")
    return int((bottom - top) * 1.3) or 12


def draw_preview(facts: dict) -> bytes:
    """The PNG's bytes for ``facts`` (``preview_facts``)."""
    image = Image.new("RGB", (PREVIEW_WIDTH, PREVIEW_HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    colour = STATUS_COLOURS.get(facts["status"], STATUS_COLOURS["unclear"])
    inner = PREVIEW_WIDTH - 2 * MARGIN

    draw.rectangle((0, 0, PREVIEW_WIDTH, 16), fill=colour)
    site_font = _font(34, bold=True)
    draw.text((MARGIN, 52), facts["site"], font=site_font, fill=MUTED)
    y = 52 + _line_height(site_font) + 18

    flags = facts["flags"]
    shown = [gettext("Flag: %(words)s") % {"words": words} for words in flags[:MAX_FLAGS]]
    if len(flags) > MAX_FLAGS:
        more = len(flags) - MAX_FLAGS + 1
        shown[-1] = ngettext(
            "And %(count)d more flag: see the page",
            "And %(count)d more flags: see the page",
            more,
        ) % {"count": more}
    # Two flags take a title line's room: the title gives it up, never the flags.
    max_title_lines = TITLE_LINES - max(0, len(shown) - 1)

    title_font = _font(TITLE_SIZE, bold=True)
    title_lines = _wrap(draw, facts["title"], title_font, inner, max_title_lines)
    step = _line_height(title_font)
    for line in title_lines:
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += step
    y += 20

    badge_font = _font(40, bold=True)
    label = facts["label"]
    left, top, right, bottom = draw.textbbox((0, 0), label, font=badge_font)
    pad_x, pad_y = 22, 12
    badge = (MARGIN, y, MARGIN + (right - left) + 2 * pad_x, y + (bottom - top) + 2 * pad_y)
    draw.rounded_rectangle(badge, radius=8, fill=colour)
    draw.text((MARGIN + pad_x - left, y + pad_y - top), label, font=badge_font, fill=PAPER)
    if facts["as_of"]:
        as_of_font = _font(36)
        as_of = facts["as_of"]
        a_left, a_top, a_right, a_bottom = draw.textbbox((0, 0), as_of, font=as_of_font)
        middle = (badge[1] + badge[3]) // 2
        draw.text(
            (badge[2] + 24 - a_left, middle - (a_bottom - a_top) // 2 - a_top),
            as_of,
            font=as_of_font,
            fill=MUTED,
        )
    y = badge[3] + 24

    flag_font = _font(30)
    flag_step = _line_height(flag_font) + 14
    for words in shown:
        if y + flag_step > PREVIEW_HEIGHT - 24:
            break
        text = _wrap(draw, words, flag_font, inner - 40, 1)[0]
        draw.rectangle((MARGIN, y, MARGIN + inner, y + flag_step - 8), fill=FLAG_BACKGROUND)
        draw.rectangle((MARGIN, y, MARGIN + 8, y + flag_step - 8), fill=FLAG_BAR)
        draw.text((MARGIN + 28, y + 6), text, font=flag_font, fill=INK)
        y += flag_step

    draw.line((0, PREVIEW_HEIGHT - 2, PREVIEW_WIDTH, PREVIEW_HEIGHT - 2), fill=RULE, width=4)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cache_key(digest: str) -> str:
    return f"preview-png.{digest}"


def preview_png(facts: dict, digest: str) -> bytes:
    """The image for ``facts`` (whose ``fingerprint`` is ``digest``): from the cache when
    the same image was drawn before, else drawn now and kept. The cache is an
    optimisation: when it fails, the image is drawn."""
    key = cache_key(digest)
    try:
        png = cache.get(key)
    except Exception:  # noqa: BLE001 (any backend's error: draw it)
        logger.warning("Preview image cache unavailable", exc_info=True)
        png = None
    if png is None:
        png = draw_preview(facts)
        try:
            cache.set(key, png, CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("Preview image cache unavailable", exc_info=True)
    return png
