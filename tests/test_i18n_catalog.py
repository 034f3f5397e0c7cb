"""Every string of the interface has its French (issue 13).

Two checks, each failing on the fault it names:

- **Marked strings**: Django's own extractor (``makemessages``, GNU gettext's xgettext)
  is run over a copy of the code and templates, and every string it finds must have a
  French entry, neither empty nor fuzzy, in the catalogues the site loads
  (``settings.LOCALE_PATHS``). A ``{% translate %}`` or ``gettext()`` added without its
  French fails here, naming the string and where it is.
- **Unmarked strings**: a template's literal text outside ``{% translate %}`` never reaches
  the extractor, so the templates are parsed with Django's own template lexer and every
  text node with words in it fails, unless it is markup only, or a name the site keeps in
  every language (``NOT_WORDS``).

Both need GNU gettext (xgettext, msgmerge, msgcat, msgattrib), which ``.ci/run`` installs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
CATALOGUES = [Path(path) / "fr" / "LC_MESSAGES" / "django.po" for path in settings.LOCALE_PATHS]
SCANNED = ("manage.py", "accountability", "commitments", "templates")


def _gettext(*args: str, cwd: Path | None = None) -> str:
    if shutil.which(args[0]) is None:
        pytest.fail(f"GNU gettext's {args[0]} is missing: apt-get install gettext (.ci/run does)")
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def template_strings(tmp_path_factory) -> Path:
    """The .pot of every marked string, from ``makemessages --keep-pot`` over a copy of the
    code (so the catalogues in the repository are never rewritten)."""
    copy = tmp_path_factory.mktemp("scan")
    for name in SCANNED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                copy / name,
                ignore=shutil.ignore_patterns("locale", "__pycache__", "migrations", "*.mo"),
            )
        else:
            shutil.copy(source, copy / name)
    (copy / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--keep-pot", "-v", "0"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pot = copy / "locale" / "django.pot"
    assert pot.exists(), "makemessages wrote no template"
    assert pot.read_text().count("\nmsgid ") > 500, "makemessages found almost nothing"
    return pot


def test_the_catalogues_compile_and_their_placeholders_match():
    present = [path for path in CATALOGUES if path.exists()]
    assert present, "no French catalogue"
    for path in present:
        _gettext("msgfmt", "--check", "-o", "/dev/null", str(path))


def test_every_marked_string_has_a_french_entry(template_strings, tmp_path):
    present = [str(path) for path in CATALOGUES if path.exists()]
    union = tmp_path / "all.po"
    _gettext("msgcat", "--use-first", "-o", str(union), *present)
    merged = tmp_path / "merged.po"
    _gettext(
        "msgmerge", "--quiet", "--no-fuzzy-matching", "-o", str(merged), str(union),
        str(template_strings),
    )  # fmt: skip
    untranslated = _gettext("msgattrib", "--untranslated", "--no-obsolete", str(merged))
    fuzzy = _gettext("msgattrib", "--only-fuzzy", "--no-obsolete", str(merged))
    missing = [
        entry
        for entry in (untranslated + "\n\n" + fuzzy).split("\n\n")
        if 'msgid ""\nmsgstr ""\n"' not in entry and re.search(r'^msgid "', entry, re.M)
    ]
    listed = "\n\n".join(missing[:40])
    assert not missing, f"{len(missing)} strings without French (first 40):\n\n{listed}"


#: Text a template may hold outside {% translate %}: the same in both languages.
NOT_WORDS = re.compile(
    r"^(?:[\s·•—–\-:;,.()|/«»\"'&#;=⚑x0-9]|&[a-z]+;|&#\d+;"
    r"|CSV|JSON|API|RSS|Atom|oEmbed|HTMX|SHA-256|Commitment Tracker)*$"
)


#: Stands for a template tag or variable while a template's own text is read.
HOLE = "\x00"


def _visible_texts(source: str) -> list[str]:
    """The pieces of text a template shows of its own: the template with every tag and
    variable (and what ``{% blocktranslate %}`` or ``{% comment %}`` enclose) replaced by a
    hole, then its markup, comments, scripts and styles removed, cut at the holes."""
    pieces, inside = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name in ("blocktranslate", "blocktrans", "comment"):
                inside += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                inside -= 1
        if token.token_type == TokenType.TEXT and not inside:
            pieces.append(token.contents)
        else:
            pieces.append(HOLE)
    text = "".join(pieces)
    text = re.sub(r"<!--.*?-->", HOLE, text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", HOLE, text, flags=re.S | re.I)
    # Attributes people read (a screen reader, a tooltip, a search result's snippet).
    said = [
        value
        for tag in re.findall(r"<[a-zA-Z][^<>]*>", text)
        for value in re.findall(rf'\b(?:{READ_ATTRIBUTES})="([^"]*)"', tag)
        if not MACHINE_VALUE.match(value)
    ]
    text = re.sub(r"<[a-zA-Z/!][^<>]*>", HOLE, text)  # tags, attributes and all
    pieces = text.split(HOLE) + [piece for value in said for piece in value.split(HOLE)]
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


#: A value for machines, not people: keywords ("website", "noindex, nofollow", "image/png",
#: "manifest.json") or settings ("width=device-width, initial-scale=1").
MACHINE_VALUE = re.compile(r"^(?:[a-z][a-z0-9_:./-]*(?:, ?[a-z][a-z0-9_:./-]*)*|.*=.*)$", re.S)
#: Attributes whose words are read: they need {% translate %} as text does.
READ_ATTRIBUTES = "aria-label|title|alt|placeholder|content|aria-description"


def _template_files():
    roots = [ROOT / "templates", ROOT / "commitments" / "templates"]
    for root in roots:
        yield from sorted(root.rglob("*.html"))
        yield from sorted(root.rglob("*.txt"))


#: Templates that are not interface text: machine formats and the robots file.
UNCHECKED = {"robots.txt"}


def test_no_template_text_outside_translate():
    found = []
    for path in _template_files():
        if path.name in UNCHECKED:
            continue
        for text in _visible_texts(path.read_text()):
            if not NOT_WORDS.match(text) and not MACHINE_VALUE.match(text):
                found.append(f"{path.relative_to(ROOT)}: {text[:80]!r}")
    assert not found, f"{len(found)} template texts outside translate:\n" + "\n".join(found[:60])
