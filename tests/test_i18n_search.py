"""Search in both languages (issue 13, PostgreSQL): each row keeps an English document
(``english_unaccent``) and a French one (``french_unaccent``), each GIN-indexed; a query
finds a commitment from either language's words, with or without accents, and each
highlight is in the language its match is in, the page's first."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.utils import translation

from commitments import selectors
from commitments.models import Actor, ActorRole, Commitment, CommitmentActor, Source, Statement
from commitments.safety import HIGHLIGHT_START, HIGHLIGHT_STOP
from tests.test_public_search_people import found

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
migration = importlib.import_module("commitments.migrations.0020_search_french")


def in_document(model, pk: int, language: str, text: str) -> bool:
    """Whether ``language``'s stored document of that row matches ``text`` parsed by the
    same language's configuration."""
    document = selectors.SEARCH_DOCUMENTS[language]
    query = selectors._search_query(text, language)
    return model.objects.filter(pk=pk, **{document: query}).exists()


def marked(text: str) -> str:
    return f"{HIGHLIGHT_START}{text}{HIGHLIGHT_STOP}"


@pytest.fixture
def doctrine(make_commitment):
    """A commitment written in both languages, and another one that must never be found."""
    make_commitment(title="Unrelated", summary="Nothing about the sea.", title_fr="Sans rapport")
    return make_commitment(
        title="Maritime prefecture doctrine for shallow waters",
        summary="The maritime prefecture lets its vessels stop small boats near the shore.",
        title_fr="Doctrine de la préfecture maritime pour les eaux peu profondes",
        summary_fr="La préfecture maritime autorise ses navires à intercepter les bateaux "
        "près du rivage.",
    )


@pytest.mark.parametrize(
    "query",
    ["préfecture", "prefecture", "Préfecture", "PREFECTURE", "préfectures", "prefecture maritime"],
)
def test_prefecture_with_or_without_accents_finds_it(doctrine, query):
    assert found(query) == {doctrine.slug}


def test_each_language_finds_it_through_its_own_document(doctrine):
    """French words through the French document, English words through the English one:
    each column matched by the query parsed with its own configuration."""

    def by(language, text):
        return in_document(Commitment, doctrine.pk, language, text)

    assert by("fr", "préfecture") and by("en", "prefecture")
    assert by("fr", "rivage") and not by("en", "rivage")
    assert by("en", "shore") and not by("fr", "shore")


@pytest.mark.parametrize(
    "query",
    [
        "interceptions",  # "intercepter" in the French only: French stemming
        "interception",
        "intercepté",
        "bateau",  # "bateaux": the English stemmer leaves "bateaux" as it is
        "rivages",
        "navire",
    ],
)
def test_french_words_in_another_inflection_find_it(doctrine, query):
    assert found(query) == {doctrine.slug}


@pytest.mark.parametrize("query", ["shallow", "vessel", "doctrines", '"small boats"'])
def test_english_words_find_it(doctrine, query):
    assert found(query) == {doctrine.slug}


def test_accents_both_ways(make_commitment):
    """An accented query finds unaccented text and the other way round, in either
    language's document."""
    accented = make_commitment(title="Élysée summit", title_fr="Sommet de l'Élysée")
    plain = make_commitment(title="Cafe policy", title_fr="Politique du cafe")
    assert found("elysee") == found("ÉLYSÉE") == found("Elysée") == {accented.slug}
    assert found("café") == found("cafe") == {plain.slug}
    assert found("sommet elysee") == {accented.slug}


def test_found_through_a_french_statement_and_our_french_translation(make_commitment, make_source):
    said_in_french = make_commitment(title="Said in French")
    translated = make_commitment(title="Translated")
    statement = Statement.objects.create(
        text="Nous intercepterons les passeurs en mer.",
        language="fr",
        translation_en="We will intercept the smugglers at sea.",
        speaker_description="Un haut fonctionnaire",
        said_on=datetime.date(2025, 7, 1),
        source=make_source(),
    )
    statement.commitments.add(said_in_french)
    Statement.objects.create(
        text="We will stop the crossings.",
        translation_fr="Nous arrêterons les traversées.",
        speaker_description="An official",
        said_on=datetime.date(2025, 7, 1),
        source=make_source(),
    ).commitments.add(translated)
    assert found("passeur") == {said_in_french.slug}  # the French text, French stemming
    assert found("smugglers") == {said_in_french.slug}  # our English translation
    assert found("traversée") == found("traversees") == {translated.slug}
    assert found("crossing") == {translated.slug}
    # The French text is in the French document only, the translation in the English one.
    pk = statement.pk
    assert in_document(Statement, pk, "fr", "passeurs") and not in_document(
        Statement, pk, "en", "passeurs"
    )
    assert in_document(Statement, pk, "en", "smugglers") and not in_document(
        Statement, pk, "fr", "smugglers"
    )


def test_a_french_original_wording_goes_in_the_french_document(make_commitment):
    commitment = make_commitment(
        title="Promise",
        original_wording="Nous renforcerons la surveillance du littoral.",
        original_wording_language="fr",
        original_wording_translation_en="We will step up coastal surveillance.",
    )
    pk = commitment.pk
    assert in_document(Commitment, pk, "fr", "littoral")
    assert not in_document(Commitment, pk, "en", "littoral")
    assert in_document(Commitment, pk, "en", "coastal")
    assert found("littoral") == found("surveillance") == found("coastal") == {commitment.slug}


def test_found_through_a_french_actor_name_and_role(make_commitment, make_actor):
    ministry = make_actor(
        name="Interior Ministry",
        name_fr="ministère de l'Intérieur",
        role="French government department",
        role_fr="administration française",
        kind="organisation",
        country="FR",
    )
    commitment = make_commitment(actor=ministry)
    make_commitment()
    assert found("ministère") == found("ministere") == found("intérieur") == {commitment.slug}
    assert found("administrations françaises") == {commitment.slug}
    assert found("Interior Ministry") == {commitment.slug}


def test_a_source_is_searched_in_its_own_language(make_commitment, make_source, log_update):
    french = make_source(outlet="Le Télégramme", title="Des bateaux interceptés", language="fr")
    english = make_source(outlet="The Times", title="Boats intercepted")
    by_french, by_english = make_commitment(made_in=french), make_commitment()
    log_update(by_english, sources=[english])
    assert found("telegramme") == found("bateau") == {by_french.slug}
    assert found("Times") == {by_english.slug}
    # Each document is matched by the query parsed with its own configuration.
    assert found("interceptés") == {by_french.slug, by_english.slug}
    french, english = Source.objects.get(pk=french.pk), Source.objects.get(pk=english.pk)
    assert french.search_document == "" and "telegramm" in french.search_document_fr
    assert english.search_document_fr == "" and "time" in english.search_document


def test_stored_documents_are_each_languages_fields_kept_on_every_write(
    make_commitment, make_actor, make_source
):
    """Both documents are what the ORM's SearchVector of that language's fields gives
    (``selectors.search_fields``), after an insert, an update and a bulk update."""
    english = make_commitment(title="Ferries", title_fr="Traversiers", original_wording="We act.")
    french = make_commitment(
        title="Ferries", original_wording="Nous agirons.", original_wording_language="fr"
    )
    english.summary_fr = "Des bacs pour la Manche."
    english.save()
    Commitment.objects.filter(pk=french.pk).update(original_wording_translation_en="We will act.")
    actor = make_actor(name="Home Office", name_fr="ministère de l'Intérieur britannique")
    source = make_source(outlet="Ouest-France", title="Une brève", language="fr-fr")
    statement = Statement.objects.create(
        text="Il faut agir.",
        language="fr",
        translation_en="We must act.",
        speaker_description="x",
        said_on=datetime.date(2025, 1, 1),
        source=source,
    )
    rows = [
        (Commitment, english.pk, "en"),
        (Commitment, french.pk, "fr"),
        (Actor, actor.pk, "en"),
        (Source, source.pk, "fr"),
        (Statement, statement.pk, "fr"),
    ]
    for model, pk, record_language in rows:
        for language, config in selectors.SEARCH_CONFIGS.items():
            fields = selectors.search_fields(model.__name__, language, record_language)
            document = selectors.SEARCH_DOCUMENTS[language]
            stored = model.objects.values_list(document, flat=True).get(pk=pk)
            if not fields:
                assert stored == "", (model, language)
                continue
            expected = (
                model.objects.annotate(expected=SearchVector(*fields, config=config))
                .values_list("expected", flat=True)
                .get(pk=pk)
            )
            assert stored and stored == expected, (model, language, record_language)
    assert selectors.search_fields("Source", "en", "fr") == ()
    assert "original_wording" not in selectors.search_fields("Commitment", "en", "fr")
    assert "original_wording" in selectors.search_fields("Commitment", "fr", "fr-ca")
    # A code in capitals (past the validator: a bulk write) goes the same way.
    Statement.objects.filter(pk=statement.pk).update(language="FR-CA")
    assert in_document(Statement, statement.pk, "fr", "agir")
    assert not in_document(Statement, statement.pk, "en", "agir")
    assert "bac" in Commitment.objects.get(pk=english.pk).search_document_fr


def test_the_french_configuration_unaccents_then_stems():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_tsvector('french_unaccent', 'Préfectures maritimes'),"
            " websearch_to_tsquery('french_unaccent', 'prefecture')"
        )
        document, query = cursor.fetchone()
    assert document == "'maritim':2 'prefectur':1" and query == "'prefectur'"


def test_a_french_page_highlights_the_french_text(doctrine):
    page = [Commitment.objects.get(pk=doctrine.pk)]
    with translation.override("fr"):
        match = selectors.search_matches(page, "prefecture")[doctrine.pk]
    assert match.text.startswith(f"Doctrine de la {marked('préfecture')} maritime")
    with translation.override("en-gb"):
        match = selectors.search_matches(page, "préfecture")[doctrine.pk]
    assert match.text.startswith(f"Maritime {marked('prefecture')} doctrine")
    # Found only through the other language: highlighted in it, whatever the page.
    with translation.override("en-gb"):
        match = selectors.search_matches(page, "rivages")[doctrine.pk]
    assert marked("rivage") in match.text and "La préfecture maritime autorise" in match.text


def test_statement_and_actor_highlights_follow_the_page_language(
    make_commitment, make_actor, make_source
):
    minister = make_actor(name="Home Secretary", name_fr="", role="Minister", role_fr="Ministre")
    commitment = make_commitment(title="Quiet", actor=minister)
    Statement.objects.create(
        text="We will patrol the coast together.",
        translation_fr="Nous patrouillerons la côte ensemble.",
        speaker=minister,
        said_on=datetime.date(2025, 7, 1),
        source=make_source(),
    ).commitments.add(commitment)
    page = [commitment]
    with translation.override("fr"):
        match = selectors.search_matches(page, "côte")[commitment.pk]
    assert match.said == f"Nous patrouillerons la {marked('côte')} ensemble."
    with translation.override("en-gb"):
        match = selectors.search_matches(page, "coast")[commitment.pk]
    assert match.said == f"We will patrol the {marked('coast')} together."
    with translation.override("fr"):
        match = selectors.search_matches(page, "ministre")[commitment.pk]
    # No French name: the name as it is, with the French role.
    assert match.actor == f"Home Secretary, {marked('Ministre')}"


def test_the_search_page_works_in_both_languages(client, doctrine):
    for address, query, lang in (
        ("/fr/commitments/", "prefecture", 'lang="fr"'),
        ("/fr/commitments/", "préfecture", 'lang="fr"'),
        ("/commitments/", "préfecture", 'lang="en'),
        ("/commitments/", "prefecture", 'lang="en'),
    ):
        for headers in ({}, HTMX):
            response = client.get(address, {"q": query}, **headers)
            assert response.status_code == 200, (address, response.status_code)
            html = response.content.decode()
            assert doctrine.get_absolute_url().removeprefix("/") in html
            assert "Unrelated" not in html and "Sans rapport" not in html
            if not headers:
                assert lang in html
    french = client.get("/fr/commitments/", {"q": "prefecture"}).content.decode()
    assert "Doctrine de la <mark>préfecture</mark> maritime" in french
    english = client.get("/commitments/", {"q": "préfecture"}).content.decode()
    assert "Maritime <mark>prefecture</mark> doctrine" in english
    assert "<mark>préfecture</mark>" not in english


def test_the_search_page_query_count_is_the_same_in_both_languages(
    client, make_commitment, make_actor, make_source, django_assert_max_num_queries
):
    actor = make_actor(name="Countable Person", name_fr="Personne comptable")
    source = make_source(outlet="Gazette comptable", language="fr")

    def add(n):
        for _ in range(n):
            commitment = make_commitment(actor=actor, made_in=source, title_fr="Promesse comptable")
            Statement.objects.create(
                text="Countable words.",
                translation_fr="Des mots comptables.",
                speaker=actor,
                said_on=datetime.date(2025, 7, 1),
                source=source,
            ).commitments.add(commitment)

    def counts():
        result = {}
        for address in ("/commitments/", "/fr/commitments/"):
            for headers in ({}, HTMX):
                with django_assert_max_num_queries(12) as captured:
                    response = client.get(address, {"q": "comptable"}, **headers)
                    assert response.status_code == 200
                result[address, bool(headers)] = len(captured)
        return result

    add(1)
    small = counts()
    add(30)
    assert counts() == small
    assert small["/commitments/", False] == small["/fr/commitments/", False]
    assert small["/commitments/", True] == small["/fr/commitments/", True]


def test_both_gin_indexes_exist_and_serve_the_search():
    """On a few thousand rows in both languages, with the planner's default settings: each
    table's arm is a BitmapOr of its two GIN indexes, and nothing is read sequentially."""
    indexes = {
        table: (english, french)
        for table, (_en, _fr, english, french) in migration.DOCUMENTS.items()
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [[name for pair in indexes.values() for name in pair]],
        )
        definitions = dict(cursor.fetchall())
    for english, french in indexes.values():
        assert "USING gin (search_document)" in definitions[english]
        assert "USING gin (search_document_fr)" in definitions[french]

    fill(3000)
    queryset = selectors.search_commitments(selectors.public_commitments(), "préfectures")
    assert set(queryset.values_list("slug", flat=True)) == {"filler-7", "filler-11"}
    plan = queryset.explain()
    for english, french in indexes.values():
        assert f"Bitmap Index Scan on {english} " in plan, plan
        assert f"Bitmap Index Scan on {french} " in plan, plan
    assert plan.count("BitmapOr") == 7, plan  # one per arm of the UNION ALL
    assert "Seq Scan" not in plan, plan
    # The highlights of a page stay one query.
    with translation.override("fr"):
        matches = selectors.search_matches(list(queryset), "préfectures")
    assert marked("préfecture") in matches[Commitment.objects.get(slug="filler-7").pk].text


def fill(n: int):
    """``n`` commitments, statements, actors and sources in both languages; the word
    "préfecture" in one commitment's French summary and one statement's French translation.
    The GIN indexes' pending entries are merged and the tables analysed, as autovacuum
    would do on a live site."""
    words = [
        ("border", "frontière"),
        ("harbour", "port"),
        ("ferry", "bac"),
        ("customs", "douane"),
        ("visa", "visa"),
        ("asylum", "asile"),
        ("coast", "côte"),
        ("patrol", "patrouille"),
    ]
    Commitment.objects.bulk_create(
        Commitment(
            title=f"Promise {i} about {words[i % 8][0]}",
            title_fr=f"Promesse {i} sur {words[i % 8][1]}",
            slug=f"filler-{i}",
            summary=f"Summary {i}: {words[(i * 5) % 8][0]} policy.",
            summary_fr=f"Résumé {i} : politique de {words[(i * 5) % 8][1]}.",
            made_on=datetime.date(2025, 1, 1),
            is_published=True,
        )
        for i in range(n)
    )
    Source.objects.bulk_create(
        Source(
            title=f"Story {i}",
            outlet="Filler News",
            url=f"https://f.example/{i}",
            language="fr" if i % 2 else "en",
        )
        for i in range(n)
    )
    sources = Source.objects.order_by("pk")
    Statement.objects.bulk_create(
        Statement(
            text=f"Statement {i} on {words[i % 8][0]}.",
            translation_fr=f"Déclaration {i} sur {words[i % 8][1]}.",
            speaker_description="An official",
            said_on=datetime.date(2025, 1, 1),
            source=source,
        )
        for i, source in enumerate(sources)
    )
    Actor.objects.bulk_create(
        Actor(name=f"Person {i}", name_fr=f"Personne {i}", slug=f"person-{i}", kind="person")
        for i in range(n)
    )
    # Each statement about one commitment, each actor with a role on one.
    pairs = list(
        zip(
            Statement.objects.order_by("pk").values_list("pk", flat=True),
            Commitment.objects.order_by("pk").values_list("pk", flat=True),
            Actor.objects.filter(slug__startswith="person-")
            .order_by("pk")
            .values_list("pk", flat=True),
            strict=True,
        )
    )
    Statement.commitments.through.objects.bulk_create(
        Statement.commitments.through(statement_id=said, commitment_id=about)
        for said, about, _actor in pairs[1:]  # ... but the first
    )
    CommitmentActor.objects.bulk_create(
        CommitmentActor(commitment_id=about, actor_id=actor, role=ActorRole.MADE_BY)
        for _said, about, actor in pairs
    )
    rare = Commitment.objects.get(slug="filler-7")
    rare.summary_fr = "La préfecture maritime patrouille."
    rare.save()
    said = Statement.objects.order_by("pk")[0]
    said.translation_fr = "La préfecture maritime se tait."
    said.save()
    said.commitments.add(Commitment.objects.get(slug="filler-11"))
    with connection.cursor() as cursor:
        for table, (_en, _fr, english, french) in migration.DOCUMENTS.items():
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [english])
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [french])
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("ANALYZE commitments_statement_commitments")
        cursor.execute("ANALYZE commitments_commitmentactor")


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses(make_commitment, make_actor):
    """Back to 0019: no French documents, indexes or configuration, every English document
    0017's again (a French original wording back in it); forward again: both rebuilt."""
    from django.db.migrations.executor import MigrationExecutor

    commitment = make_commitment(
        title="Promise",
        title_fr="Promesse de préfecture",
        original_wording="Nous surveillerons le littoral.",
        original_wording_language="fr",
    )
    make_actor(name="Home Office", name_fr="ministère")

    def columns_and_config():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE column_name = 'search_document_fr' ORDER BY table_name"
            )
            tables = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT count(*) FROM pg_ts_config WHERE cfgname = 'french_unaccent'")
            configs = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)",
                [[french for _en, _fr, _english, french in migration.DOCUMENTS.values()]],
            )
            indexes = cursor.fetchone()[0]
            cursor.execute(
                "SELECT search_document::text FROM commitments_commitment WHERE id = %s",
                [commitment.pk],
            )
            english = cursor.fetchone()[0]
        return tables, configs, indexes, english

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("commitments", "0019_translations")])
        tables, configs, indexes, english = columns_and_config()
        assert (tables, configs, indexes) == ([], 0, 0)
        assert "'littor'" in english  # 0017's document: the whole original wording
        assert "prefectur" not in english
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    tables, configs, indexes, english = columns_and_config()
    assert tables == [
        "commitments_actor",
        "commitments_commitment",
        "commitments_source",
        "commitments_statement",
    ]
    assert (configs, indexes) == (1, 4)
    assert "'littor'" not in english and "'nous'" not in english
    assert found("préfecture") == found("littoral") == {commitment.slug}
    assert "'minister'" in Actor.objects.get(name="Home Office").search_document_fr


def test_sqlite_fallback_searches_the_french_fields(tmp_path):
    """The embedded default (no DATABASE_URL): plain containment, in the French fields too
    (accents are not folded there: "préfecture" finds only "préfecture")."""
    from tests.embedded import embedded_environment, manage

    env = embedded_environment(tmp_path / "var")
    manage(env, "migrate", "--noinput", "-v0")
    script = """
import datetime
from django.db import connection
from commitments import selectors as s
from commitments.models import Actor, ActorRole, Commitment, CommitmentActor, Source, Statement
def make(slug, **kw):
    return Commitment.objects.create(slug=slug, summary="s", made_on=datetime.date(2025, 7, 1),
        is_published=True, **kw)
make("titled", title="Maritime prefecture", title_fr="Préfecture maritime")
said = make("said", title="Said")
source = Source.objects.create(title="t", outlet="o", url="https://e.example/1")
st = Statement.objects.create(text="We will stop them.",
    translation_fr="Nous arrêterons les passeurs.", speaker_description="x",
    said_on=datetime.date(2025, 7, 1), source=source)
st.commitments.add(said)
by = make("by-actor", title="By actor")
actor = Actor.objects.create(name="Interior Ministry", name_fr="ministère de l'Intérieur",
    slug="interior", kind="ministry")
CommitmentActor.objects.create(commitment=by, actor=actor, role=ActorRole.MADE_BY)
def found(q):
    return sorted(s.search_commitments(s.public_commitments(), q).values_list("slug", flat=True))
print(connection.vendor, found("préfecture"), found("passeurs"), found("ministère"),
    found("prefecture"))
"""
    out = manage(env, "shell", "--no-imports", "-c", script).strip()
    assert out == "sqlite ['titled'] ['said'] ['by-actor'] ['titled']"
