"""The seed data says only what the two seed articles say.

Each record in ``seeds/*.yaml`` has a ``basis``: a source key and the article's
sentence(s) it rests on. When the articles are present (``../shared/seeds`` from the
repository root) these tests check, against their text:

- every basis sentence is found verbatim, as whole sentences, in the article it names;
- every statement of kind "quote" is the speaker's words verbatim (split on ``[...]``)
  in its own source's article, and every passage in double quotes in any other text is
  the article's words verbatim;
- no date is more precise than the articles make it (neither gives a calendar day), and
  something said "previously" or "repeatedly" is a paraphrase dated to the month it was
  reported, saying so;
- an unnamed speaker is described in the article's own words, and "sources" only where
  the article has more than one.

Only curly and straight quotes and whitespace are normalised, so editing a quote by one
letter fails. The checks without the articles (every record has a basis; the loader
refuses one without) always run.
"""

from __future__ import annotations

import copy
import datetime
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from commitments.models import Topic
from commitments.seeding import SeedError, _records, load_seed_file, read_seed_file

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = sorted((ROOT / "seeds").glob("*.yaml"))
ARTICLES_DIR = ROOT.parent / "shared" / "seeds"

QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
SENTENCE_END = '.!?:"'
ELLIPSIS = "[...]"
DATE_FIELDS = [
    ("published_on", "published_precision"),
    ("made_on", "made_precision"),
    ("deadline", "deadline_precision"),
    ("effective_on", "effective_precision"),
    ("said_on", "said_precision"),
    ("observed_on", "observed_precision"),
]
REPORTED_LATER = re.compile(r"\b(previously|repeatedly)\b", re.I)


def normalise(text: str) -> str:
    """Curly quotes to straight, every run of whitespace to one space."""
    return " ".join(str(text).translate(QUOTES).split())


class Article:
    def __init__(self, text: str):
        lines = [" ".join(line.translate(QUOTES).split()) for line in text.splitlines()]
        # Paragraph breaks kept as "\n" (one character, like the space it replaces), so
        # positions in ``flat`` and ``lined`` agree.
        self.lined = "\n".join(line for line in lines if line)
        self.flat = self.lined.replace("\n", " ")

    def find(self, passage: str, start: int = 0) -> int:
        return self.flat.find(normalise(passage), start)

    def has_sentences(self, passage: str) -> bool:
        """The passage is there verbatim and starts and ends at sentence boundaries."""
        wanted = normalise(passage)
        at = self.flat.find(wanted)
        while at != -1:
            end = at + len(wanted)
            starts = (
                at == 0
                or self.lined[at - 1] == "\n"
                or (self.lined[at - 1] == " " and self.lined[at - 2] in SENTENCE_END)
            )
            ends = (
                end == len(self.lined)
                or self.lined[end] == "\n"
                or (self.lined[end] == " " and wanted[-1] in SENTENCE_END)
            )
            if starts and ends:
                return True
            at = self.flat.find(wanted, at + 1)
        return False

    def has_in_order(self, parts: list[str]) -> bool:
        at = 0
        for part in parts:
            found = self.find(part, at)
            if found == -1:
                return False
            at = found + len(normalise(part))
        return True


def quote_parts(text: str) -> list[str]:
    return [part.strip() for part in normalise(text).split(ELLIPSIS) if part.strip()]


def as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def day_written(date: datetime.date) -> list[str]:
    return [f"{date.day} {date:%B}", f"{date:%B} {date.day}"]


def seed_files():
    return [(path.name, read_seed_file(path)) for path in SEED_FILES]


def load_articles(data: dict) -> dict[str, Article]:
    articles = {}
    for source in data.get("sources") or []:
        path = ARTICLES_DIR / source["article"]
        assert path.exists(), f"source {source['key']!r}: no article text at {path}"
        articles[source["key"]] = Article(path.read_text(encoding="utf-8"))
    return articles


def text_fields(item: dict):
    """Every free-text value of a record except its basis and nested records."""
    for key, value in item.items():
        if key in ("basis", "updates", "observations", "roles") or not isinstance(value, str):
            continue
        yield key, value


def fact_problems(data: dict, articles: dict[str, Article]) -> list[str]:
    """Everything in one seed file that its articles do not bear out."""
    problems = []
    sources = {item["key"]: item for item in data.get("sources") or []}
    for name, item in _records(data):
        basis = item.get("basis") or []
        named = {entry["source"] for entry in basis}
        for entry in basis:
            if not articles[entry["source"]].has_sentences(entry["text"]):
                problems.append(
                    f"{name}: basis is not whole sentences verbatim in {entry['source']}: "
                    f"{normalise(entry['text'])[:80]!r}"
                )
        basis_text = " ".join(normalise(entry["text"]) for entry in basis)

        # Words in double quotes are the article's words.
        quoted_in = named | ({item["source"]} if "source" in item else set())
        for field, value in text_fields(item):
            if field == "text" and item.get("kind", "quote") == "quote":
                continue
            for passage in re.findall(r'"([^"]+)"', normalise(value)):
                if not any(articles[key].has_in_order(quote_parts(passage)) for key in quoted_in):
                    problems.append(f"{name}: {field} quotes words not in an article: {passage!r}")

        # Dates no more precise than the articles.
        for date_field, precision_field in DATE_FIELDS:
            if item.get(date_field) is None:
                continue
            date = as_date(item[date_field])
            if item.get(precision_field, "day") == "day" and not any(
                day in basis_text for day in day_written(date)
            ):
                problems.append(f"{name}: {date_field} is given to the day; the articles are not")

        if name.startswith("statement"):
            problems.extend(statement_problems(name, item, basis_text, sources, articles))
    return problems


def statement_problems(name, item, basis_text, sources, articles) -> list[str]:
    problems = []
    article = articles[item["source"]]
    if item.get("kind", "quote") == "quote":
        text = normalise(item["text"])
        if text.startswith('"') or text.endswith('"'):
            problems.append(f"{name}: a quote's text is stored without quotation marks")
        if not article.has_in_order(quote_parts(text)):
            problems.append(
                f"{name}: the quote is not verbatim in {item['source']} "
                f"(leave words out only with {ELLIPSIS})"
            )
    if REPORTED_LATER.search(basis_text):
        source = sources[item["source"]]
        if item.get("kind", "quote") != "paraphrase":
            problems.append(f"{name}: said earlier, undated: record it as a paraphrase")
        if (item.get("said_precision"), as_date(item["said_on"])) != (
            source["published_precision"],
            as_date(source["published_on"]),
        ):
            problems.append(f"{name}: said earlier, undated: date it to the report's month")
        if "reported" not in item["text"]:
            problems.append(f"{name}: say the date is when it was reported, not when said")
    if not item.get("speaker"):
        description = normalise(item["speaker_description"]).split(",")[0].split(" (")[0]
        description = re.sub(r"^(a|an|one|another|the) ", "", description, flags=re.I)
        if description.lower() not in basis_text.lower():
            problems.append(
                f"{name}: describe the speaker as the article does, not {description!r}"
            )
    if re.search(r"\bsources\b", item.get("speaker_description", ""), re.I) and not re.search(
        r"\bsources\b", basis_text, re.I
    ):
        problems.append(f"{name}: the article attributes this to one person, not sources")
    return problems


# --- Without the articles ---------------------------------------------------------------


@pytest.mark.parametrize(("filename", "data"), seed_files())
def test_every_seed_record_has_a_basis(filename, data):
    names = []
    for name, item in _records(data):
        names.append(name)
        basis = item.get("basis")
        assert basis and all(entry.get("source") and entry.get("text") for entry in basis), name
    assert len(names) > 40, filename


@pytest.mark.django_db
def test_the_loader_refuses_a_record_without_a_basis_naming_it(tmp_path):
    data = read_seed_file(SEED_FILES[0])
    del data["topics"][1]["basis"]
    del data["statements"][0]["basis"]
    data["commitments"][0]["updates"][0]["basis"] = [{"source": "nowhere", "text": "x"}]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedError) as refused:
        load_seed_file(path)
    message = str(refused.value)
    assert "topic 'returns-agreements': has no basis" in message
    assert "statement 1 (\"It's just a political stunt. It's much blah-blah\"): has no basis" in (
        message
    )
    assert (
        "status update 1 (stalled, 2025-10-01) of commitment "
        "'french-maritime-doctrine-shallow-waters': basis entry 1 names an unknown source "
        "'nowhere'" in message
    )
    assert not Topic.objects.exists()  # refused before anything is written

    with pytest.raises(CommandError, match="topic 'returns-agreements': has no basis"):
        call_command("load_seeds", "--directory", str(tmp_path))
    assert not Topic.objects.exists()


# --- Against the articles ---------------------------------------------------------------

needs_articles = pytest.mark.skipif(
    not ARTICLES_DIR.is_dir(),
    reason=f"the seed articles are not here ({ARTICLES_DIR}): nothing to check the seeds against",
)


@needs_articles
@pytest.mark.parametrize(("filename", "data"), seed_files())
def test_every_seed_fact_is_borne_out_by_its_article(filename, data):
    problems = fact_problems(data, load_articles(data))
    assert not problems, "\n".join(problems)


@needs_articles
@pytest.mark.parametrize(("filename", "data"), seed_files())
def test_an_edited_quote_basis_or_date_is_caught(filename, data):
    articles = load_articles(data)
    quote = next(i for i, s in enumerate(data["statements"]) if s.get("kind") == "quote")

    def problems_after(change):
        edited = copy.deepcopy(data)
        change(edited)
        return fact_problems(edited, articles)

    def edit_quote(d):
        d["statements"][quote]["text"] = d["statements"][quote]["text"].replace("It", "it", 1)

    def join_quote(d):  # words left out without [...]
        words = d["statements"][quote]["text"].split()
        d["statements"][quote]["text"] = " ".join(words[:2] + words[3:])

    def edit_basis(d):
        d["actors"][0]["basis"][0]["text"] += " Indeed."

    def cut_basis(d):  # half a sentence is not a sentence
        text = d["actors"][0]["basis"][0]["text"]
        d["actors"][0]["basis"][0]["text"] = text[: len(text) // 2]

    def day_date(d):
        d["statements"][quote]["said_precision"] = "day"

    def quote_in_summary(d):
        d["commitments"][0]["summary"] += ' It was "a triumph".'

    def sources_for_one(d):
        d["statements"][quote]["speaker_description"] = "Sources in French maritime security"

    def quote_in_french(d):  # double quotes mark the article's words in French fields too
        d["commitments"][0]["summary_fr"] += ' C’était "un triomphe".'

    for change in (
        edit_quote,
        join_quote,
        edit_basis,
        cut_basis,
        day_date,
        quote_in_summary,
        sources_for_one,
        quote_in_french,
    ):
        assert problems_after(change), change.__name__
