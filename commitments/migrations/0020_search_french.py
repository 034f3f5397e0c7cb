"""The public search reads both languages (issue 13): each searched row keeps its English
words in ``search_document`` (``english_unaccent``, 0017) and its French words in
``search_document_fr`` (``french_unaccent``, new: PostgreSQL's ``french`` with every word
unaccented before it is stemmed), each column with its own GIN index, both kept by the
row's trigger (PostgreSQL; stored NULL columns elsewhere).

Which words go in which document:

- a commitment: title and summary in English, ``title_fr`` and ``summary_fr`` in French;
  its original wording in the document of the language it was said in
  (``original_wording_language``), and each of our translations of it in its own language's;
- a statement: its text in the document of its ``language``, ``translation_en`` and
  ``translation_fr`` in theirs. The speaker's description stays out, as before: it is
  the editors' description of an unnamed speaker ("an official"), not words said, and its
  common words would find every commitment such a speaker spoke about;
- an actor: name and role in English, ``name_fr`` and ``role_fr`` in French;
- a source: outlet, title and author in the document of the source's own ``language``.
  Sources in any other language (a German or Italian report) go in the English document:
  a word must be stored by one of the two configurations a query is parsed with, or a
  stemmed query word could never meet it; English is the records' base language and its
  stemmer cuts fewer endings than the French one, so a foreign name stays closest to itself.
  A commitment's original wording and a statement's text in another language go there too,
  for the same reason.

A search matches a row when either document matches the query parsed by its own
configuration (``selectors._document_matches``), so "prefecture", "préfecture" and
"préfectures" all find "préfecture maritime", and "maritime prefecture" finds it as well.
"""

import django.contrib.postgres.search
from django.db import migrations

EN = "english_unaccent"
FR = "french_unaccent"


def _in_french(column: str) -> str:
    """SQL: the language code in ``NEW.<column>`` is French (``fr``, or ``fr-ca`` and the like;
    whatever the case); false, never NULL, for any other."""
    return f"split_part(lower(COALESCE(NEW.{column}, '')), '-', 1) = 'fr'"


def _words(*pieces: str) -> str:
    return " || ' ' || ".join(pieces)


def _if(condition: str, column: str, otherwise: bool = False) -> str:
    """SQL: ``NEW.<column>`` when ``condition`` holds (or, ``otherwise``, when it does not),
    else empty."""
    test = f"NOT {condition}" if otherwise else condition
    return f"CASE WHEN {test} THEN COALESCE(NEW.{column}, '') ELSE '' END"


def _c(column: str) -> str:
    return f"COALESCE(NEW.{column}, '')"


_WORDING_FR = _in_french("original_wording_language")
_STATEMENT_FR = _in_french("language")
_SOURCE_FR = _in_french("language")
_SOURCE_COLUMNS = ("outlet", "title", "author")

#: (table, English document's text, French document's text, English index, French index).
DOCUMENTS = {
    "commitments_commitment": (
        _words(
            _c("title"),
            _c("summary"),
            _if(_WORDING_FR, "original_wording", otherwise=True),
            _c("original_wording_translation_en"),
        ),
        _words(
            _c("title_fr"),
            _c("summary_fr"),
            _if(_WORDING_FR, "original_wording"),
            _c("original_wording_translation_fr"),
        ),
        "commitment_search_document",
        "commitment_search_document_fr",
    ),
    "commitments_statement": (
        _words(_if(_STATEMENT_FR, "text", otherwise=True), _c("translation_en")),
        _words(_if(_STATEMENT_FR, "text"), _c("translation_fr")),
        "statement_search_document",
        "statement_search_document_fr",
    ),
    "commitments_actor": (
        _words(_c("name"), _c("role")),
        _words(_c("name_fr"), _c("role_fr")),
        "actor_search_document",
        "actor_search_document_fr",
    ),
    "commitments_source": (
        _words(*(_if(_SOURCE_FR, column, otherwise=True) for column in _SOURCE_COLUMNS)),
        _words(*(_if(_SOURCE_FR, column) for column in _SOURCE_COLUMNS)),
        "source_search_document",
        "source_search_document_fr",
    ),
}


def _trigger(table: str, english: str, french: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_search_document() RETURNS trigger AS $$
BEGIN
    NEW.search_document := to_tsvector('{EN}'::regconfig, {english});
    NEW.search_document_fr := to_tsvector('{FR}'::regconfig, {french});
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {table}_search_document ON {table};
CREATE TRIGGER {table}_search_document BEFORE INSERT OR UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_search_document();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
DROP TEXT SEARCH CONFIGURATION IF EXISTS {FR};
CREATE TEXT SEARCH CONFIGURATION {FR} (COPY = french);
ALTER TEXT SEARCH CONFIGURATION {FR}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
"""
    )
    for table, (english, french, _index, index_fr) in DOCUMENTS.items():
        schema_editor.execute(_trigger(table, english, french))
        # Fill both documents of the rows there are (the English one changes too: a French
        # original wording or statement leaves it). The public-version trigger bumps the
        # version once per table: cached pages are rebuilt, which is right after this.
        schema_editor.execute(f"UPDATE {table} SET search_document = NULL")
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{index_fr}" ON {table} USING gin (search_document_fr)'
        )


def drop(apps, schema_editor):
    """Back to 0017's triggers (English only); the French columns go with the fields. The
    English documents are rebuilt by ``refill``, once the French columns are gone."""
    if schema_editor.connection.vendor != "postgresql":
        return
    old = __import__(
        "commitments.migrations.0017_search_people_and_sources", fromlist=["DOCUMENTS"]
    )
    for table, (_english, _french, _index, index_fr) in DOCUMENTS.items():
        schema_editor.execute(old._trigger(table, old.DOCUMENTS[table][0]))
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index_fr}"')
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {FR}")


def refill(apps, schema_editor):
    """Reversing: each row's English document computed again by 0017's trigger. It runs
    after the French columns are dropped, since PostgreSQL refuses to alter a table with
    trigger events still pending from an update in the same transaction."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in DOCUMENTS:
        schema_editor.execute(f"UPDATE {table} SET search_document = NULL")


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0019_translations"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, refill, elidable=False),
        migrations.AddField(
            model_name="actor",
            name="search_document_fr",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="commitment",
            name="search_document_fr",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="source",
            name="search_document_fr",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="statement",
            name="search_document_fr",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
