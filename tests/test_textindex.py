"""Indexed text lookups: the words a story is indexed by, the stories an alias may occur in,
search by word and by part of a name, on SQLite (FTS5) and PostgreSQL (GIN, pg_trgm)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explainer import search as search_module
from explainer.linking import Matcher, Term, find_mentions, normalize_alias, parse_html
from explainer.models import Actor, Alias, Article
from explainer.search import MAX_SPELLING_CANDIDATES, search
from explainer.textindex import (
    alias_matching,
    alias_resembling,
    articles_containing,
    containing_alias,
    description_matching,
    index_words,
    matching_words,
    story_index_text,
)
from tests.factories import make_actor, make_article
from tests.test_admin import ALIAS_ADD, admin_form, form_errors

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's indexes and query plans"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 tables")


@pytest.fixture
def vendor() -> str:
    return connection.vendor


@pytest.fixture
def plan(vendor):
    """The query plan of a queryset, with PostgreSQL told to avoid sequential scans: the
    test tables are tiny, and the question is whether a text index can answer the query."""

    def explain(queryset) -> str:
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                # Nor walk the primary key and filter each row: that is a scan too.
                cursor.execute("SET LOCAL enable_indexscan = off")
        return queryset.explain()

    return explain


# The words a story is indexed by (no database)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Kim Jong-un’s visit_2019", "kim jong un s visit 2019"),
        ("KIM\u00a0JONG\u2011UN", "kim jong un"),
        ("김정은은, 푸틴과!", "김정은은 푸틴과"),
        ("Ким Чен Ын", "ким чен ын"),
        ("  O'Brien — U.S.  ", "o brien u s"),
        ("Éte\u0301", "éte\u0301"),
        ("--", ""),
        ("…!!", ""),
        ("", ""),
    ],
)
def test_index_words_keeps_folded_words_separated_by_one_space(text, words):
    assert index_words(text) == words


def test_index_words_is_idempotent():
    once = index_words("The Kim–Putin summit: 김정은의 “vision”")

    assert index_words(once) == once


def test_story_index_text_never_joins_the_words_of_two_text_nodes():
    assert story_index_text("<p>Kim</p><p>Jong</p>") == "kim jong"
    assert story_index_text("<p>Kim<em>Jong</em>-un &amp; Putin</p>") == "kim jong un putin"


# The stories an alias may occur in


WORDS = [
    "kim", "Kim", "KIM", "jong", "Jong-un", "un", "Un", "Putin", "putin’s", "O’Brien",
    "o'brien", "U.S.", "US", "jong_un", "café", "Ким", "Чен", "Ын", "x²", "2019",
    "김정은", "푸틴", "위원장", "북한",
]  # fmt: skip
PARTICLES = ["", "", "은", "의", "과", "에게", "이라고"]
GAPS = [
    " ", "  ", "-", "\u00a0", "\u2011", ", ", ". ", "’", "'", "_", " <em>", "</em> ", "<b>",
    "</b>", "</p><p>", "<br>", ' <a href="https://example.com/">see</a> ',
]  # fmt: skip


@st.composite
def story_and_alias(draw) -> tuple[str, str]:
    """Story HTML built from names, particles and gaps (tags among them), and an alias made
    of a run of the story's words, so that the linker often finds it."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
    pieces = []
    for word in words:
        particle = draw(st.sampled_from(PARTICLES)) if "\uac00" <= word[-1] <= "\ud7a3" else ""
        pieces += [word + particle, draw(st.sampled_from(GAPS))]
    start = draw(st.integers(min_value=0, max_value=len(words) - 1))
    length = draw(st.integers(min_value=1, max_value=min(3, len(words) - start)))
    alias = draw(st.sampled_from([" ", "-"])).join(words[start : start + length])
    return "<p>" + "".join(pieces) + "</p>", alias


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=story_and_alias())
@example(case=("<p>김정은은 푸틴과 만났다</p>", "김정은"))
@example(case=("<p>Chairman <b>Kim Jong-un</b>’s visit</p>", "Kim Jong Un"))
@example(case=("<p>" + "word " * 20_000 + "Vladivostok</p>", "Vladivostok"))
def test_articles_containing_includes_every_story_the_linker_finds_the_alias_in(case):
    body, alias = case
    article = make_article(body=body)
    matcher = Matcher([Term(text=alias, target="actor:1")])

    found = find_mentions(parsed=parse_html(article.body_html), matcher=matcher)

    if found:
        assert article.pk in articles_containing(normalize_alias(alias))


@pytest.mark.django_db
def test_articles_containing_finds_a_story_after_create_and_edit_not_after_delete():
    article = make_article(body="<p>Foreign Minister Lavrov arrived.</p>")
    assert articles_containing("lavrov") == {article.pk}

    article.body = "<p>Foreign Minister Shoigu arrived.</p>"
    article.save()
    assert articles_containing("lavrov") == set()
    assert articles_containing("shoigu") == {article.pk}

    article.delete()
    assert articles_containing("shoigu") == set()


@pytest.mark.django_db
def test_articles_containing_needs_every_word_but_not_as_a_phrase():
    both = make_article(body="<p>Un said Kim and Jong agreed.</p>")
    make_article(body="<p>Kim Jong-il died.</p>")

    assert articles_containing("kim jong un") == {both.pk}


@pytest.mark.django_db
def test_articles_containing_with_hangul_alias_finds_the_noun_with_its_particle():
    article = make_article(body="<p>북한의 김정은은 말했다.</p>")

    assert articles_containing("김정은") == {article.pk}
    assert articles_containing("북한") == {article.pk}
    assert articles_containing("kim") == set()


@pytest.mark.django_db
def test_articles_containing_an_alias_without_words_is_nothing():
    make_article(body="<p>-- and !!</p>")

    assert articles_containing("--") == set()
    assert not Article.objects.filter(containing_alias("!!")).exists()


@pytest.mark.django_db
def test_containing_alias_filter_is_the_same_stories_as_articles_containing():
    article = make_article(body="<p>Chairman Kim Jong-un arrived.</p>")
    make_article(body="<p>Nobody arrived.</p>")

    ids = set(Article.objects.filter(containing_alias("kim jong un")).values_list("pk", flat=True))

    assert ids == articles_containing("kim jong un") == {article.pk}


@pytest.mark.django_db
def test_story_edited_through_update_is_reindexed():
    article = make_article(body="<p>Lavrov arrived.</p>")

    Article.objects.filter(pk=article.pk).update(match_text="shoigu arrived")

    assert articles_containing("lavrov") == set()
    assert articles_containing("shoigu") == {article.pk}


# Search


@pytest.mark.django_db
def test_search_finds_stories_by_the_start_of_a_word():
    article = make_article(body="<p>Russian President Vladimir Putin welcomed Kim.</p>")

    assert search("puti").stories == [article]
    assert search("vladimir puti").stories == [article]
    assert search("putin zzz").stories == []


@pytest.mark.django_db
def test_search_takes_only_the_last_latin_word_as_the_start_of_one():
    # An earlier word must be whole: looking up every word a prefix starts is the part of
    # a search that grows with the archive.
    article = make_article(body="<p>Russian President Vladimir Putin welcomed Kim.</p>")

    assert search("vladimir putin").stories == [article]
    assert search("vlad putin").stories == []
    assert search("putin vlad").stories == [article]


@pytest.mark.django_db
def test_search_takes_the_last_word_whole_when_enough_stories_hold_it(monkeypatch):
    # Looking up every word a start begins is what grows with the archive: it is done
    # only when too few stories hold the word itself.
    day = timezone.now() - dt.timedelta(days=30)
    plural = make_article(body="<p>New sanctions.</p>", published_at=day)
    whole = [
        make_article(body="<p>One sanction.</p>", published_at=day - dt.timedelta(days=n))
        for n in (1, 2)
    ]

    monkeypatch.setattr(search_module, "MAX_CANDIDATES", 2)
    assert search("sanction").stories == whole
    monkeypatch.setattr(search_module, "MAX_CANDIDATES", 3)
    assert search("sanction").stories == [plural, *whole]


@pytest.mark.django_db
def test_search_takes_every_hangul_word_as_the_start_of_one():
    article = make_article(body="<p>김정은은 푸틴과 회담했다.</p>")

    assert search("김정은 푸틴").stories == [article]
    assert search("김정은 putin").stories == []


@pytest.mark.django_db
def test_search_shows_stories_with_the_query_in_their_headline_first():
    older = make_article(headline="Putin meets Kim", body="<p>The leaders met.</p>")
    newer = make_article(
        headline="A summit in Vladivostok",
        body="<p>Putin welcomed Kim.</p>",
        published_at=older.published_at.replace(year=2020),
    )
    newest = make_article(
        headline="Kim and Putin again",
        body="<p>They met again.</p>",
        published_at=older.published_at.replace(year=2021),
    )

    assert search("putin kim").stories == [newest, older, newer]
    assert search("putin").stories == [newest, older, newer]
    assert search("vladivostok").stories == [newer]


@pytest.mark.django_db
def test_search_finds_stories_by_headline_words_too():
    article = make_article(headline="Summit in Vladivostok", body="<p>Kim met Putin.</p>")

    assert search("vladivostok putin").stories == [article]


@pytest.mark.django_db
def test_search_finds_hangul_stories_with_particles():
    article = make_article(body="<p>김정은은 푸틴과 회담했다.</p>")

    assert search("김정은").stories == [article]
    assert search("푸틴").stories == [article]


@pytest.mark.django_db
def test_search_shows_published_stories_only_newest_first():
    older = make_article(body="<p>Putin spoke.</p>")
    newer = make_article(
        body="<p>Putin spoke again.</p>", published_at=older.published_at.replace(year=2020)
    )
    make_article(body="<p>Putin in a draft.</p>", published=False)
    make_article(
        headline="Putin tomorrow",
        body="<p>Putin, scheduled.</p>",
        published_at=timezone.now() + dt.timedelta(days=1),
    )

    assert search("putin").stories == [newer, older]


@pytest.mark.django_db
def test_search_with_two_characters_finds_entries_whose_alias_starts_with_them():
    kim = make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("김정은",))
    make_actor(name="Moon Jae-in", slug="moon-jae-in", aliases=("문재인",))

    assert search("김정").entries == [kim]
    assert search("ki").entries == [kim]
    assert search("un").entries == []


@pytest.mark.django_db
def test_search_finds_entries_by_part_of_an_alias_or_description():
    kim = make_actor(name="Kim Jong-un", slug="kim-jong-un", description="Leader of North Korea")
    putin = make_actor(name="Vladimir Putin", slug="vladimir-putin", description="President")

    assert search("jong un").entries == [kim]
    assert search("north kor").entries == [kim]
    assert search("PRESIDENT").entries == [putin]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Kim Jong-Eun", "Kim Jong Eun", "kim jongun", "김정운"])
def test_search_finds_entries_by_an_alias_spelled_like_the_query(query):
    kim = make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("김정은",))
    make_actor(name="Moon Jae-in", slug="moon-jae-in", aliases=("문재인",))

    results = search(query)

    assert results.entries == [kim]
    assert results.suggestion.entry == kim


@pytest.mark.django_db
def test_search_with_a_typo_in_one_word_of_a_name_finds_it():
    putin = make_actor(name="Vladimir Putin", slug="vladimir-putin", aliases=("Putin",))

    for query in ["putn", "puitn", "vladimr", "Vladimir Ptin"]:
        results = search(query)

        assert results.entries == [putin], query
        assert results.suggestion.entry == putin


@pytest.mark.django_db
def test_search_ranks_exact_and_prefix_matches_above_spelling_matches():
    pulin = make_actor(name="Pulin", slug="pulin")
    putin_family = make_actor(name="Putina", slug="putina")
    putin = make_actor(name="Putin", slug="putin")
    vladimir = make_actor(name="Vladimir Putin", slug="vladimir-putin")

    results = search("putin")

    assert results.entries == [putin, putin_family, vladimir, pulin]
    assert results.suggestion is None


@pytest.mark.django_db
def test_search_suggests_nothing_for_a_query_spelled_like_no_name():
    make_actor(name="Vladimir Putin", slug="vladimir-putin")

    results = search("pyongyang")

    assert results.entries == []
    assert results.suggestion is None


@pytest.mark.django_db
def test_search_by_spelling_shows_published_entries_only():
    make_actor(name="Kim Jong-un", slug="kim-jong-un", is_published=False)

    assert search("Kim Jong Eun").entries == []


def make_people(count: int, *, start: int = 0) -> None:
    actors = Actor.objects.bulk_create(
        Actor(name=f"Person {n}", slug=f"person-{n}", description=f"Deputy minister {n}")
        for n in range(start, start + count)
    )
    Alias.objects.bulk_create(
        Alias(actor=actor, text=actor.name, normalized=normalize_alias(actor.name))
        for actor in actors
    )


@pytest.mark.django_db
def test_spelling_candidates_are_bounded_whatever_the_number_of_aliases():
    make_people(600)

    for query in ["persn 12", "person", "perso 4", "pe"]:
        candidates = Alias.objects.filter(
            alias_resembling(normalize_alias(query), limit=MAX_SPELLING_CANDIDATES)
        )

        assert candidates.count() <= 2 * MAX_SPELLING_CANDIDATES, query


@on_sqlite
@pytest.mark.django_db
def test_spelling_candidates_sharing_pieces_of_two_words_are_enough_alone():
    # Ranking aliases that share one trigram with the query is the part that grows with
    # the library: it is done only when too few share pieces of two of its words.
    for name in ["Noh Wan-young", "Noh Wan-yong", "Wan-young Noh"]:
        make_actor(name=name)
    for first_name in ["Bin-ga", "Min-ji", "Ho-seok", "Tae-il"]:
        make_actor(name=f"Noh {first_name}")

    def candidates(limit: int) -> set[str]:
        found = Alias.objects.filter(alias_resembling("noh wan yung", limit=limit))
        return set(found.values_list("text", flat=True))

    assert candidates(3) == {"Noh Wan-young", "Noh Wan-yong", "Wan-young Noh"}
    assert len(candidates(5)) == 5
    assert candidates(10) == set(Alias.objects.values_list("text", flat=True))


@pytest.mark.django_db
def test_search_query_count_does_not_grow_with_aliases(django_assert_max_num_queries):
    make_people(20)
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    with CaptureQueriesContext(connection) as with_few:
        few = search("persn 12")

    make_people(800, start=20)
    with django_assert_max_num_queries(len(with_few)):
        many = search("persn 12")

    assert len(with_few) <= 9
    assert [entry.name for entry in few.entries][:1] == ["Person 12"]
    assert [entry.name for entry in many.entries][:1] == ["Person 12"]
    assert search("Kim Jong Eun").entries[0].name == "Kim Jong-un"


@pytest.mark.django_db
def test_description_matching_under_three_characters_is_nothing():
    make_actor(description="UN envoy")

    assert not Actor.objects.filter(description_matching(Actor, "un")).exists()


# Query plans: the indexes answer the lookups


@on_sqlite
@pytest.mark.django_db
def test_sqlite_lookups_read_the_fts5_tables(plan):
    story_plan = plan(Article.objects.filter(containing_alias("kim jong un")).values("pk"))
    search_plan = plan(Article.objects.filter(matching_words("puti")).values("pk"))
    alias_plan = plan(Alias.objects.filter(alias_matching("jong un")).values("pk"))
    description_plan = plan(Actor.objects.filter(description_matching(Actor, "north")).values("pk"))
    short_plan = plan(Alias.objects.filter(alias_matching("ki")).values("pk"))
    spelling_plan = plan(Alias.objects.filter(alias_resembling("putn", limit=50)).values("pk"))

    assert "explainer_alias_trigram VIRTUAL TABLE" in spelling_plan
    assert "SCAN explainer_alias\n" not in spelling_plan + "\n"
    assert "explainer_article_fts VIRTUAL TABLE" in story_plan
    assert "explainer_article_fts VIRTUAL TABLE" in search_plan
    assert "explainer_alias_trigram VIRTUAL TABLE" in alias_plan
    assert "explainer_actor_trigram VIRTUAL TABLE" in description_plan
    assert "USING INDEX" in short_plan
    assert "normalized>? AND normalized<?" in short_plan


@on_sqlite
@pytest.mark.django_db
def test_sqlite_search_reads_its_story_candidates_by_id_not_down_the_date_index():
    # Asked to keep published stories or order them by date, SQLite (no statistics) walked
    # the date index over every story to find the few the full-text table gave.
    for number in range(3):
        make_article(body=f"<p>Putin spoke {number}.</p>")
    with CaptureQueriesContext(connection) as queries:
        search("putin")
    # Two lookups: "putin" whole, then, as fewer than 200 stories hold it, as a start.
    candidates = [q["sql"] for q in queries if "explainer_article_fts" in q["sql"]]

    assert len(candidates) == 2
    for sql in candidates:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING INTEGER PRIMARY KEY" in plan
        assert "article_latest" not in plan


@on_postgresql
@pytest.mark.django_db
def test_postgresql_lookups_use_the_gin_and_btree_indexes(plan):
    story_plan = plan(Article.objects.filter(containing_alias("kim jong un")).values("pk"))
    search_plan = plan(Article.objects.filter(matching_words("puti")).values("pk"))
    alias_plan = plan(Alias.objects.filter(alias_matching("jong un")).values("pk"))
    description_plan = plan(Actor.objects.filter(description_matching(Actor, "north")).values("pk"))
    short_plan = plan(Alias.objects.filter(alias_matching("ki")).values("pk"))
    spelling_plan = plan(Alias.objects.filter(alias_resembling("putn", limit=50)).values("pk"))

    assert "Bitmap Index Scan on explainer_alias_normalized_trgm" in spelling_plan
    assert "Seq Scan" not in spelling_plan
    assert "Bitmap Index Scan on explainer_article_match_tsv" in story_plan
    assert "Bitmap Index Scan on explainer_article_match_tsv" in search_plan
    assert "Bitmap Index Scan on explainer_alias_normalized_trgm" in alias_plan
    assert "Bitmap Index Scan on explainer_actor_description_trgm" in description_plan
    assert "Seq Scan" not in short_plan
    assert "Index" in short_plan


# Aliases need a word


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["--", "!!", "…!", "__"])
def test_alias_without_letter_or_digit_is_refused(text):
    alias = Alias(text=text, actor=make_actor())

    with pytest.raises(ValidationError, match="at least one letter or digit"):
        alias.full_clean()


@pytest.mark.django_db
def test_admin_refuses_alias_without_letter_or_digit(admin_client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": "--", "actor": str(actor.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    assert "An alias needs at least one letter or digit." in form_errors(response)
    assert not Alias.objects.filter(text="--").exists()


@on_sqlite
@pytest.mark.django_db
def test_sqlite_connections_keep_the_index_pages_of_a_large_archive_in_memory():
    # SQLite's default page cache is 2 MB: at 100,000 stories it lost the indexes' inner
    # pages between requests, and relinking one story cost a fifth more than at 1,000.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]

    assert cache_size == -65536  # kibibytes: 64 MB
    assert journal_mode == "wal"
