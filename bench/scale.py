"""Newsroom-scale benchmark: what editing, relinking, search and story pages cost as the
archive grows from 1,000 to 100,000 stories and the library from 1,000 to 100,000 aliases.

Every figure is a ratio against a baseline measured in the same run: the largest archive
against the smallest, alias add against a plain entry save, a story page against
`/robots.txt`. Nothing asserts a time and a missed target does not fail the run.

For each database (scratch SQLite files, then scratch PostgreSQL databases created and
dropped on the loopback) and each size, a child process of this script migrates an empty
database and fills it with bulk inserts (a seeded synthetic archive: actors with Latin and
Hangul aliases, stories of about 700 words naming them, and their Mention rows), all sizes
at once; then the children measure in process with Django's test client, each measurement
in turns (``TURNS``), the sizes taking turns, so that the ratios between sizes compare
samples taken over the same minutes. The parent collects the figures and prints the
summary, plain and as Markdown for docs/performance.md. `--quick` runs 1k and 10k.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The summary table, the scratch PostgreSQL database and the load average are bench/run.py's.
from run import (  # noqa: E402
    BenchError,
    Row,
    failed,
    heading,
    info,
    judged,
    load_average,
    postgres_database,
    print_markdown,
    print_table,
    table_cells,
)

from explainer.linking import anchor, normalize_alias, parse_html  # noqa: E402
from explainer.sanitize import html_to_text, sanitize_body_html  # noqa: E402

FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
POSTGRES_NAME = "explainer_bench_scale"
SEED = 20261201
CHUNK = 1_000  # stories generated per task and inserted per transaction
RELINK_TARGET = 300  # stories per second per worker, on PostgreSQL
SEARCH_P95_TARGET_MS = 50.0


@dataclass(frozen=True)
class Effort:
    """How many samples each measurement takes, and how long it may try for."""

    requests: int  # search and story-page requests
    saves: int  # admin saves per kind
    relink_stories: int
    relink_one: int
    budget: float  # seconds per measurement; it stops early (with at least `minimum`)
    minimum: int


FULL = Effort(requests=200, saves=20, relink_stories=2_000, relink_one=20, budget=90, minimum=5)
QUICK = Effort(requests=30, saves=6, relink_stories=200, relink_one=6, budget=5, minimum=3)
# Each measurement is taken in this many turns, the sizes taking turns with each other:
# measured one after another, minutes apart, their ratios measured this machine's drift.
# One measurement at a time, so that each size's turns follow on from each other (its
# caches as warm as when it was measured in one go).
TURNS = {"full": 5, "quick": 2}


def per_turn(effort: Effort, turns: int) -> Effort:
    """A turn's share of ``effort``."""
    return Effort(
        requests=max(2, effort.requests // turns),
        saves=max(1, effort.saves // turns),
        relink_stories=max(1, effort.relink_stories // turns),
        relink_one=max(1, effort.relink_one // turns),
        budget=effort.budget / turns,
        minimum=max(1, -(-effort.minimum // turns)),
    )


# --- the synthetic archive ---------------------------------------------------------------

# Romanized Korean names and their Hangul, one syllable per column, so that every Latin
# name has exactly one Hangul form. Surnames never occur in the filler text, and no given
# syllable is a surname, so a name is found only where the generator put it.
SURNAMES = [
    ("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최"), ("Jung", "정"),
    ("Kang", "강"), ("Cho", "조"), ("Yoon", "윤"), ("Jang", "장"), ("Lim", "임"),
    ("Oh", "오"), ("Shin", "신"), ("Kwon", "권"), ("Hwang", "황"), ("Ahn", "안"),
    ("Song", "송"), ("Yoo", "유"), ("Hong", "홍"), ("Jeon", "전"), ("Ko", "고"),
    ("Moon", "문"), ("Yang", "양"), ("Son", "손"), ("Bae", "배"), ("Baek", "백"),
    ("Heo", "허"), ("Noh", "노"), ("Kwak", "곽"), ("Cha", "차"), ("Ryu", "류"),
    ("Byun", "변"), ("Chun", "천"), ("Goh", "구"), ("Pyo", "표"), ("Tak", "탁"),
]  # fmt: skip
GIVEN = [
    ("ji", "지"), ("hoon", "훈"), ("min", "민"), ("jun", "준"), ("hyun", "현"),
    ("soo", "수"), ("young", "영"), ("jin", "진"), ("ho", "호"), ("seok", "석"),
    ("yeon", "연"), ("eun", "은"), ("hee", "희"), ("kyung", "경"), ("sung", "성"),
    ("jae", "재"), ("won", "원"), ("hye", "혜"), ("bin", "빈"), ("chul", "철"),
    ("dong", "동"), ("gyu", "규"), ("hwan", "환"), ("il", "일"), ("mi", "미"),
    ("sang", "상"), ("tae", "태"), ("yong", "용"), ("ah", "아"), ("chan", "찬"),
    ("gun", "건"), ("in", "인"), ("kwang", "광"), ("rim", "림"), ("sik", "식"),
    ("taek", "택"), ("ung", "웅"), ("wan", "완"), ("ye", "예"), ("ga", "가"),
    ("geun", "근"), ("gi", "기"), ("hak", "학"), ("hyuk", "혁"), ("jong", "종"),
    ("ran", "란"), ("ri", "리"), ("rok", "록"), ("seon", "선"), ("si", "시"),
]  # fmt: skip
ROLES = [
    "Minister of", "Deputy minister of", "Spokesperson for", "Chair of", "Adviser on",
    "Director of", "Envoy on", "Member of the committee on", "Researcher on", "Head of",
]  # fmt: skip
FIELDS = [
    "unification", "foreign affairs", "defence", "trade", "energy", "finance",
    "the economy", "security", "culture", "labour", "fisheries", "health",
]  # fmt: skip
HANGUL_PARTICLES = ["", "", "은", "의", "과", "도"]
FILLER_TEXT = """the a of to in and on for that with as at by from said talks sanctions summit
minister government officials meeting week year month Monday Tuesday Wednesday Thursday
Friday statement border trade nuclear missile agreement economic security foreign policy
spokesperson told reporters after before during while would could should also not but
which who their its they were has had have been will more than over about against between
The In After On At A It They But While When Officials Analysts The ministry committee
parliament vote budget bill proposal plan report data growth exports imports shipping port
railway visit delegation leaders countries region regional negotiations deal dispute
pressure response military exercise drills coast guard weather forecast market shares
investors inflation rate bank central prices energy oil gas supply chain factories
workers union strike wages election campaign poll voters party opposition ruling court
ruling judge prosecutors investigation police city province capital residents schools
hospital health doctors vaccine. program. said. added. reported. announced. week. year.
again. later. today. talks, officials, however, meanwhile, according analysis expected
likely unlikely possible further senior junior former current new old first second
third last next several many few some most each every other another both either neither
"""
FILLER = FILLER_TEXT.split()
# The numerals an editor's alias-add saves append to a name, each save a new phrase.
NUMERALS = [f"the {n}th" for n in range(4, 200)]


@dataclass(frozen=True)
class LibraryActor:
    number: int  # 0 is the most mentioned actor
    name: str
    hangul: str
    aliases: tuple[str, ...]  # the name first


def make_library(alias_count: int) -> list[LibraryActor]:
    """Actors with their name as an alias, and one more alias each (a Hangul form for a
    third of them, the Western order for the rest) until there are ``alias_count``."""
    clashes = {surname.lower() for surname, _ in SURNAMES} & {word.lower() for word in FILLER}
    if clashes:
        raise BenchError(f"Filler words that are surnames: {', '.join(sorted(clashes))}.")
    actors = (alias_count + 1) // 2
    extras = alias_count - actors
    combinations = list(
        itertools.product(range(len(SURNAMES)), range(len(GIVEN)), range(len(GIVEN)))
    )
    if actors > len(combinations):
        raise BenchError(f"At most {2 * len(combinations):,} aliases can be generated.")
    random.Random(SEED).shuffle(combinations)
    library = []
    for number, (s, g1, g2) in enumerate(combinations[:actors]):
        surname, surname_hangul = SURNAMES[s]
        given = f"{GIVEN[g1][0].capitalize()}-{GIVEN[g2][0]}"
        name = f"{surname} {given}"
        hangul = surname_hangul + GIVEN[g1][1] + GIVEN[g2][1]
        aliases = [name]
        if number < extras:
            aliases.append(hangul if number % 3 == 0 else f"{given} {surname}")
        library.append(LibraryActor(number, name, hangul, tuple(aliases)))
    normalized = [normalize_alias(text) for actor in library for text in actor.aliases]
    if len(set(normalized)) != alias_count:
        raise BenchError("The generated library has duplicate aliases.")
    return library


# Set in the child process before the generator pool forks, and so shared with its workers.
LIBRARY: list[LibraryActor] = []
CUMULATIVE: list[float] = []  # Zipf weights: actor n is mentioned about 1/(n+1) as often
MATCH_TEXT: Callable[[str], str] = normalize_alias


def story_date(number: int, total: int) -> dt.datetime:
    """Stories spread over the eleven years to a month ago, oldest first: all published."""
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=30)
    return end - dt.timedelta(days=4_000 * (total - number) / total)


def generate_chunk(first: int, count: int) -> list[dict]:
    """Stories ``first`` to ``first + count - 1``: the fields Article.save() fills, and the
    automatic mentions relinking would record. Deterministic for a given seed and chunk."""
    rng = random.Random(SEED * 1_000_003 + first)
    stories = []
    for number in range(first, first + count):
        drawn = rng.choices(range(len(LIBRARY)), cum_weights=CUMULATIVE, k=16)
        named = list(dict.fromkeys(drawn))[: rng.randint(3, 8)]
        occurrences = []  # (actor, surface as written, the quote the matcher finds)
        for actor_number in named:
            actor = LIBRARY[actor_number]
            for _ in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
                alias = rng.choice(actor.aliases) if rng.random() < 0.3 else actor.name
                written = alias + rng.choice(HANGUL_PARTICLES) if alias == actor.hangul else alias
                occurrences.append((actor_number, written, alias))
        words = rng.choices(FILLER, k=700)
        # Never two names side by side: the matcher would be free to read them differently.
        slots = sorted(rng.sample(range(len(words)), len(occurrences)))
        rng.shuffle(occurrences)
        at_slot = dict(zip(slots, occurrences, strict=True))
        paragraphs, hits, offset = [], [], 0
        for start in range(0, len(words), 70):
            parts, cursor, position = [], start, 0
            for slot in [slot for slot in slots if start <= slot < start + 70]:
                if slot > cursor:
                    chunk = " ".join(words[cursor:slot])
                    parts.append(chunk)
                    position += len(chunk) + 1
                actor_number, written, quote = at_slot[slot]
                hits.append((offset + position, len(quote), actor_number))
                parts.append(written)
                position += len(written) + 1
                cursor = slot
            if cursor < start + 70:
                parts.append(" ".join(words[cursor : start + 70]))
            paragraph = " ".join(parts)
            paragraph = paragraph[0].upper() + paragraph[1:] + "."
            paragraphs.append(paragraph)
            offset += len(paragraph)
        body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        text = "".join(paragraphs)
        mentions, linked = [], set()
        for start, length, actor_number in hits:
            found = anchor(text=text, start=start, end=start + length)
            mentions.append(
                (
                    actor_number,
                    found.quote,
                    found.prefix,
                    found.suffix,
                    start,
                    actor_number not in linked,
                )
            )
            linked.add(actor_number)
        lead, other = LIBRARY[named[0]].name, LIBRARY[named[-1]].name
        headline = f"{lead} and {other} on {rng.choice(FIELDS)}, {number}"
        stories.append(
            {
                "number": number,
                "headline": headline,
                "dek": " ".join(rng.choices(FILLER, k=18)),
                "byline": f"{LIBRARY[named[1 % len(named)]].name.split()[0]} Reporter",
                "dateline": "Seoul",
                "body": body,
                "body_text": html_to_text(body),
                "match_text": MATCH_TEXT(body),
                "mentions": mentions,
            }
        )
    return stories


def choose_match_text() -> tuple[Callable[[str], str], str]:
    """What Article.save() stores as ``match_text``: the text index's words where
    explainer/textindex.py exists, else the matcher's normal form (check_derived_fields
    says whether it still agrees with the model)."""
    try:
        from explainer import textindex
    except ImportError:
        return (lambda body: normalize_alias(parse_html(body).text)), "linking.normalize_alias"
    if hasattr(textindex, "story_index_text"):
        return textindex.story_index_text, "textindex.story_index_text"

    def indexed(body: str) -> str:
        return textindex.index_words(" ".join(node.text for node in parse_html(body).text_nodes))

    return indexed, "textindex.index_words"


# --- the child: build one archive and measure it ------------------------------------------


# The archive size a child process measures, to tell its lines apart from the others'.
SIZE_LABEL = ""


def progress(message: str) -> None:
    print(f"    {SIZE_LABEL}{message}", flush=True)


@contextlib.contextmanager
def timed_part(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "explainer.settings")
    import django
    from django.conf import settings

    django.setup()
    # As Django's test runner does: no query log (bulk inserts would fill memory with SQL),
    # production error handling. Debug stays on in the environment so that the settings
    # keep plain static files storage, with no collectstatic manifest to build.
    settings.DEBUG = False


def build_archive(size: int, facts: dict) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, connections
    from django.utils import timezone

    from explainer.models import Actor, Alias, Article, Mention

    global LIBRARY, CUMULATIVE, MATCH_TEXT
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    facts["migrate_s"] = time.perf_counter() - started
    LIBRARY = make_library(size)
    CUMULATIVE = list(itertools.accumulate(1 / (n + 1) for n in range(len(LIBRARY))))
    MATCH_TEXT, facts["match_text"] = choose_match_text()

    started = time.perf_counter()
    actors, aliases = [], []
    for actor in LIBRARY:
        actors.append(
            Actor(
                pk=actor.number + 1,
                name=actor.name,
                slug=f"{normalize_alias(actor.name).replace(' ', '-')}-{actor.number}",
                kind=Actor.Kind.PERSON,
                description=f"{ROLES[actor.number % len(ROLES)]} {FIELDS[actor.number % 12]}",
                context_json={
                    "aliases": sorted(actor.aliases),
                    "sources": [],
                    "roles": [],
                    "updates": [],
                    "involved": [],
                    "related": [],
                },
            )
        )
        for text in actor.aliases:
            aliases.append(
                Alias(
                    pk=len(aliases) + 1,
                    actor_id=actor.number + 1,
                    text=text,
                    normalized=normalize_alias(text),
                )
            )
    Actor.objects.bulk_create(actors, batch_size=2_000)
    Alias.objects.bulk_create(aliases, batch_size=5_000)
    elapsed = time.perf_counter() - started
    progress(f"library: {len(actors):,} actors, {len(aliases):,} aliases ({elapsed:.1f} s)")

    check_derived_fields(facts)

    connections.close_all()  # the generator's workers are forks: they must not share it
    import multiprocessing

    started, waited, mention_count = time.perf_counter(), 0.0, 0
    rendered_at = timezone.now()
    chunks = [(first, min(CHUNK, size - first)) for first in range(0, size, CHUNK)]
    workers = max(1, min(2, len(os.sched_getaffinity(0))))
    # Forked: the workers inherit the library; with the default SIGTERM handler, which
    # Pool.terminate() relies on to stop them.
    with multiprocessing.get_context("fork").Pool(workers, initializer=_reset_sigterm) as pool:
        generated = pool.imap(_generate, chunks)
        for done in range(1, len(chunks) + 1):
            before = time.perf_counter()
            stories = next(generated)
            waited += time.perf_counter() - before
            mention_count += insert_stories(
                stories, size=size, first_mention_pk=mention_count + 1, rendered_at=rendered_at
            )
            if done % max(1, len(chunks) // 10) == 0 or done == len(chunks):
                elapsed = time.perf_counter() - started
                progress(
                    f"stories: {min(done * CHUNK, size):,} / {size:,} ({elapsed:.0f} s, "
                    f"{waited:.0f} s of it waiting for the generator)"
                )
        pool.close()
        pool.join()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Actor, Alias, Article, Mention]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            # What autovacuum does after such a load: statistics for the planner, and the
            # GIN indexes' pending lists merged (a search would otherwise scan them).
            cursor.execute("VACUUM ANALYZE")
    facts["stories_s"] = time.perf_counter() - started
    get_user_model().objects.create_superuser("bench-editor", "editor@example.com", "not-used")
    facts.update(stories=size, aliases=len(aliases), actors=len(actors), mentions=mention_count)


def insert_stories(
    stories: list[dict], *, size: int, first_mention_pk: int, rendered_at: dt.datetime
) -> int:
    """One chunk of generated stories and their mentions, in one transaction: the stories
    with bulk_create, the mentions (nine or so a story) with executemany, as building that
    many model instances would cost more than the inserts."""
    from django.db import connection, transaction

    from explainer.models import Article, Mention

    articles, mentions = [], []
    for story in stories:
        pk = story["number"] + 1
        articles.append(
            Article(
                pk=pk,
                headline=story["headline"],
                slug=f"story-{story['number']}",
                dek=story["dek"],
                byline=story["byline"],
                dateline=story["dateline"],
                status=Article.Status.PUBLISHED,
                published_at=story_date(story["number"], size),
                body=story["body"],
                body_html=story["body"],  # built of <p> and words: already sanitized
                body_text=story["body_text"],
                match_text=story["match_text"],
                linked_body_html=story["body"],
                rendered_at=rendered_at,
            )
        )
        for actor_number, quote, prefix, suffix, start, is_linked in story["mentions"]:
            mentions.append(
                {
                    "id": first_mention_pk + len(mentions),
                    "article_id": pk,
                    "actor_id": actor_number + 1,
                    "quote": quote,
                    "prefix": prefix,
                    "suffix": suffix,
                    "start": start,
                    "origin": Mention.Origin.AUTOMATIC.value,
                    "is_linked": is_linked,
                }
            )
    # Every column of the table: the ones given, and each other field's default, as
    # bulk_create would fill them.
    fields = Mention._meta.concrete_fields
    defaults = {
        field.attname: field.get_db_prep_save(field.get_default(), connection)
        for field in fields
        if field.attname not in mentions[0]
    }
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Mention._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    rows = [
        tuple(mention[f.attname] if f.attname in mention else defaults[f.attname] for f in fields)
        for mention in mentions
    ]
    with transaction.atomic():
        Article.objects.bulk_create(articles, batch_size=500)
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return len(mentions)


def _reset_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _generate(chunk: tuple[int, int]) -> list[dict]:
    return generate_chunk(*chunk)


def check_derived_fields(facts: dict) -> None:
    """Save one generated story the model's way, in a transaction rolled back, and compare
    what save() derived with what the generator writes in bulk."""
    from django.db import transaction

    from explainer import models
    from explainer.models import Article

    story = generate_chunk(0, 1)[0]
    if sanitize_body_html(story["body"]) != story["body"]:
        facts["derived_mismatch"] = ["body_html"]
        return
    mine = {
        "body_html": story["body"],
        "body_text": story["body_text"],
        "match_text": story["match_text"],
    }
    # What relinking writes is not save()'s to derive: the generator sets linked_body_html
    # to the body and rendered_at to the load time, and leaves the rest to relinking.
    for name in getattr(models, "RELINK_FIELDS", ("linked_body_html", "rendered_at")):
        mine[name] = None
    with transaction.atomic():
        article = Article(
            headline="Derived-field check",
            slug="derived-field-check",
            body=story["body"],
            status=Article.Status.PUBLISHED,
            published_at=story_date(0, 1),
        )
        article.save()
        article.refresh_from_db()
        transaction.set_rollback(True)
    # Import provenance (explainer/provenance.py) is an import's to write, not save()'s to
    # derive: a story saved, like a generated one, has none.
    provenance = {"imported_at": None, "import_digest": ""}
    mismatched = []
    for field in Article._meta.concrete_fields:
        if field.editable or field.name in {"id", "created_at", "updated_at"}:
            continue
        if field.name in provenance:
            if getattr(article, field.name) != provenance[field.name]:
                mismatched.append(f"{field.name} (set by save(), left empty by the generator)")
        elif field.name not in mine:
            mismatched.append(f"{field.name} (not filled by the generator)")
        elif mine[field.name] is not None and getattr(article, field.name) != mine[field.name]:
            mismatched.append(field.name)
    with contextlib.suppress(ImportError):
        from explainer.snapshots import entry_snapshot

        actor = models.Actor.objects.get(pk=1)
        if entry_snapshot(actor) != actor.context_json:
            mismatched.append("Actor.context_json (not as snapshots.entry_snapshot makes it)")
    facts["derived_mismatch"] = mismatched
    if mismatched:
        progress(
            "WARNING: the generator's derived fields differ from Article.save(): "
            + ", ".join(mismatched)
        )


# --- measuring helpers --------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def repeat(function: Callable[[int], float], *, count: int, effort: Effort) -> list[float]:
    """Call ``function(i)`` (which returns one sample) up to ``count`` times, stopping once
    the budget is spent and at least ``effort.minimum`` samples are in."""
    started, samples = time.perf_counter(), []
    for number in range(count):
        samples.append(function(number))
        if len(samples) >= effort.minimum and time.perf_counter() - started > effort.budget:
            break
    return samples


def get_ms(client, path: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, params or {})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise BenchError(f"GET {path} {params or ''} answered {response.status_code}, not 200.")
    return elapsed


class _FormFields(HTMLParser):
    """The fields a browser would submit from an admin change form, as a browser fills them."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, selected, all

    def add(self, name: str | None, value: str) -> None:
        if name and "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form" and values.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input":
            kind = values.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in values:
                    self.add(values.get("name"), values.get("value") or "on")
                return
            self.add(values.get("name"), values.get("value", ""))
        elif tag == "textarea":
            self._textarea = values.get("name")
            self.add(self._textarea, "")
        elif tag == "select":
            self._select = (values.get("name", ""), [], [])
        elif tag == "option" and self._select is not None:
            value = values.get("value", "")
            self._select[2].append(value)
            if "selected" in values:
                self._select[1].append(value)

    def handle_data(self, data: str) -> None:
        if self._textarea and "__prefix__" not in self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            value = self.data.get(self._textarea, [""])[-1]
            if value.startswith("\n"):  # as browsers do: the newline after <textarea> is markup
                self.data[self._textarea][-1] = value[1:]
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, chosen, options = self._select
            for value in chosen or options[:1]:
                self.add(name, value)
            self._select = None


def change_form(client, url: str, form_id: str) -> dict[str, list[str]]:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}, not 200.")
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    if not parser.data:
        raise BenchError(f"{url} has no form with id {form_id}.")
    return parser.data


def post_ms(client, url: str, data: dict[str, list[str]]) -> float:
    started = time.perf_counter()
    response = client.post(url, {**data, "_continue": ["Save and continue editing"]})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 302:
        errors = re.findall(
            r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
        )
        raise BenchError(f"POST {url} answered {response.status_code}: {' '.join(errors)[:500]}")
    return elapsed


def task_rows() -> int | None:
    """Relink tasks waiting in the database task backend, or None without that backend."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return None
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return None
    return DBTaskResult.objects.count()


# --- the measurements ---------------------------------------------------------------------


def measure_search(client, effort: Effort) -> dict:
    from explainer.models import Actor

    top = Actor.objects.get(pk=1)  # the most mentioned actor, with a Hangul alias
    rare = Actor.objects.order_by("-pk").first()
    queries = [
        top.name,  # a name, exactly
        top.aliases.exclude(text=top.name).first().text,  # its Hangul form
        normalize_alias(top.name),  # another spelling: lower case, no hyphen
        top.name[: len(top.name.split()[0]) + 3],  # a prefix: "Park Ji"
        "sanctions",  # a word in most stories
        rare.name,  # a name in few stories
        "minister",  # in descriptions
    ]
    for query in queries:
        get_ms(client, "/search/", {"q": query})
    get_ms(client, "/robots.txt")
    search, robots = [], []
    by_query: dict[str, list[float]] = {query: [] for query in queries}

    def one(number: int) -> float:
        robots.append(get_ms(client, "/robots.txt"))
        query = queries[number % len(queries)]
        elapsed = get_ms(client, "/search/", {"q": query})
        search.append(elapsed)
        by_query[query].append(elapsed)
        return elapsed

    repeat(one, count=effort.requests, effort=dataclasses.replace(effort, minimum=len(queries)))
    return {"search": search, "robots": robots, "by_query": by_query}


def summarize_search(turns: list[dict]) -> dict:
    search = [value for turn in turns for value in turn["search"]]
    by_query: dict[str, list[float]] = {}
    for turn in turns:
        for query, values in turn["by_query"].items():
            by_query.setdefault(query, []).extend(values)
    p95 = percentile(search, 0.95)
    progress(f"search: {len(search)} requests over {len(by_query)} queries, p95 {p95:.1f} ms")
    return {
        "p50": statistics.median(search),
        "p95": p95,
        "n": len(search),
        "robots_p50": statistics.median(value for turn in turns for value in turn["robots"]),
        "per_query": {query: statistics.median(times) for query, times in by_query.items()},
    }


def measure_pages(client, effort: Effort, size: int) -> dict:
    from django.core.cache import cache

    from explainer.models import Article

    story = Article.objects.get(pk=size // 2 + 1)
    path = story.get_absolute_url()
    # As every story is once the archive has been relinked (which may store the rendered
    # page with the story); the generator leaves that to relinking.
    relinked = False
    with contextlib.suppress(ImportError, AttributeError):
        from explainer.relinking import relink_stories

        relink_stories([story.pk])
        relinked = True
    get_ms(client, path)
    get_ms(client, "/robots.txt")
    cold, warm, robots = [], [], []

    def one(number: int) -> float:
        cache.clear()
        cold.append(get_ms(client, path))
        warm.append(get_ms(client, path))
        robots.append(get_ms(client, "/robots.txt"))
        return cold[-1]

    repeat(one, count=effort.requests // 2, effort=effort)
    return {"cold": cold, "warm": warm, "robots": robots, "relinked": relinked, "path": path}


def summarize_pages(turns: list[dict]) -> dict:
    def joined(key: str) -> list[float]:
        return [value for turn in turns for value in turn[key]]

    progress(f"story page: {len(joined('cold'))} cold and warm requests of {turns[0]['path']}")
    return {
        "cold_p50": statistics.median(joined("cold")),
        "warm_p50": statistics.median(joined("warm")),
        "robots_p50": statistics.median(joined("robots")),
        "n": len(joined("cold")),
        "relinked": all(turn["relinked"] for turn in turns),
    }


# The story saved at every size has this many rows in the admin's mention table: the admin
# validates each row (its entry, its constraints), so a story with more rows costs more to
# save whatever the library, and comparing sizes must compare like with like. (Counting
# every mention row instead, the 1,000-story archive's story had four rows shown and the
# 100,000-story archive's five: a sixth of the time between them.)
SAVED_STORY_MENTIONS = 5


def story_with_mentions(size: int, count: int):
    """The first story from a third of the way into the archive with ``count`` rows in the
    admin's mention table (or the one there, if none of the next thousand has)."""
    from django.db.models import Count

    from explainer.admin import MentionInline
    from explainer.models import Article, Mention

    first = size // 3 + 1
    counts = (
        Mention.objects.filter(MentionInline.rows_shown)
        .filter(article_id__gte=first, article_id__lte=first + 1_000)
        .values("article_id")
        .annotate(mentions=Count("pk"))
        .filter(mentions=count)
        .order_by("article_id")
        .values_list("article_id", flat=True)
    )
    return Article.objects.get(pk=next(iter(counts), first))


def measure_story_save(editor, effort: Effort, size: int, turn: int) -> dict:
    from explainer.admin import MentionInline

    story = story_with_mentions(size, SAVED_STORY_MENTIONS)
    url = f"/admin/explainer/article/{story.pk}/change/"

    def one(number: int) -> float:
        data = change_form(editor, url, "article_form")
        body = data["body"][0]
        data["body"] = [body[: body.rindex("</p>")] + f" Updated {turn}.{number}.</p>"]
        return post_ms(editor, url, data)

    if turn == 0:
        one(-1)  # a first save compiles the admin's templates
    tasks_before = task_rows()
    samples = repeat(one, count=effort.saves, effort=effort)
    tasks_after = task_rows()
    return {
        "samples": samples,
        "tasks": None if tasks_before is None else tasks_after - tasks_before,
        "mentions": story.mentions.filter(MentionInline.rows_shown).count(),
    }


def summarize_story_save(turns: list[dict]) -> dict:
    samples = [value for turn in turns for value in turn["samples"]]
    tasks = [turn["tasks"] for turn in turns]
    progress(f"story save: {len(samples)} admin saves, p50 {statistics.median(samples):.0f} ms")
    return {
        "p50": statistics.median(samples),
        "n": len(samples),
        "tasks": None if None in tasks else sum(tasks),
        "mentions": turns[-1]["mentions"],
    }


# Numbers for the aliases added, never the same twice in a run (an alias is unique).
_NUMERALS_LEFT = iter(NUMERALS)


def measure_entry_saves(editor, effort: Effort, turn: int) -> dict:
    from explainer.models import Actor, Mention

    # A prominent figure, not the most prominent: mentioned in about 0.5% of the stories.
    actor = (
        Actor.objects.get(pk=101)
        if Actor.objects.filter(pk=101).exists()
        else Actor.objects.get(pk=1)
    )
    url = f"/admin/explainer/actor/{actor.pk}/change/"
    stories = Mention.objects.filter(actor=actor).values("article_id").distinct().count()

    def alias_add(number: int) -> float:
        data = change_form(editor, url, "actor_form")
        total = int(data["aliases-TOTAL_FORMS"][0])
        initial = int(data["aliases-INITIAL_FORMS"][0])
        index = (
            total - 1
            if total > initial and not data.get(f"aliases-{total - 1}-text", [""])[0]
            else total
        )
        if index == total:
            data["aliases-TOTAL_FORMS"] = [str(total + 1)]
        data[f"aliases-{index}-text"] = [f"{actor.name} {next(_NUMERALS_LEFT)}"]
        data[f"aliases-{index}-actor"] = [str(actor.pk)]
        return post_ms(editor, url, data)

    def plain_save(number: int) -> float:
        data = change_form(editor, url, "actor_form")
        data["description"] = [f"{ROLES[number % len(ROLES)]} {FIELDS[number % len(FIELDS)]}"]
        return post_ms(editor, url, data)

    if turn == 0:
        plain_save(-1)  # templates compiled, first revision made
    alias_adds, plain = [], []

    def both(number: int) -> float:  # taking turns, so load from elsewhere hits both alike
        alias_adds.append(alias_add(number))
        plain.append(plain_save(number))
        return alias_adds[-1]

    repeat(both, count=effort.saves, effort=effort)
    return {"alias_adds": alias_adds, "plain": plain, "stories_mentioning": stories}


def summarize_entry_saves(turns: list[dict]) -> dict:
    alias_adds = [value for turn in turns for value in turn["alias_adds"]]
    plain = [value for turn in turns for value in turn["plain"]]
    stories = turns[0]["stories_mentioning"]
    progress(
        f"entry saves: {len(plain)} of each, alias add p50 {statistics.median(alias_adds):.0f} ms, "
        f"plain p50 {statistics.median(plain):.0f} ms ({stories:,} stories mention the actor)"
    )
    return {
        "alias_add_p50": statistics.median(alias_adds),
        "plain_p50": statistics.median(plain),
        "n": len(plain),
        "stories_mentioning": stories,
    }


# The shared matcher for the current library version, by the names it has had.
MATCHER_NAMES = ["current_library", "library_matcher", "shared_matcher"]


def relink_sample(effort: Effort, size: int, turns: int) -> list[int]:
    """Stories to relink, in the order they are taken, none twice in a run."""
    wanted = (effort.relink_stories + effort.relink_one + 1) * turns
    return random.Random(SEED).sample(range(1, size + 1), min(size, wanted))


def measure_relinking(effort: Effort, size: int, turn: int, turns: int) -> dict:
    from django.core.cache import cache
    from django.db.models import Max

    from explainer.models import Mention

    try:
        from explainer import relinking
    except ImportError as error:
        return {"error": f"explainer.relinking is missing ({error})"}
    relink_stories = getattr(relinking, "relink_stories", None)
    if relink_stories is None:
        return {"error": "explainer.relinking.relink_stories is missing"}
    build = next(
        (getattr(relinking, name) for name in MATCHER_NAMES if hasattr(relinking, name)), None
    )
    result: dict = {}
    if build is None:
        result["build_error"] = f"explainer.relinking has none of {', '.join(MATCHER_NAMES)}"
    elif turn == 0:
        # Cold: no copy in this process, none in the cache.
        if hasattr(relinking, "forget_libraries"):
            relinking.forget_libraries()
        cache.clear()
        started = time.perf_counter()
        build()
        result["build_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        build()
        result["warm_lookup_ms"] = (time.perf_counter() - started) * 1000

    sample = relink_sample(effort, size, turns)
    per_turn = len(sample) // turns
    ids = sample[turn * per_turn : (turn + 1) * per_turn]
    one_ids, batch = ids[: effort.relink_one + 1], ids[effort.relink_one + 1 :]
    relink_stories([one_ids[0]])  # the matcher warm, whatever it is called
    singles = []
    for article_id in one_ids[1:]:
        started = time.perf_counter()
        relink_stories([article_id])
        singles.append((time.perf_counter() - started) * 1000)
    mentions = Mention.objects.filter(article_id__in=batch)
    before = (mentions.count(), Mention.objects.aggregate(Max("pk"))["pk__max"])
    # Half the batch as a worker relinks it: its task, on chunks with the pending rows an
    # edit records; half straight through ``relink_stories``, as earlier runs measured.
    # Which half goes first alternates by turn, so that drift in the machine's speed
    # falls on both alike.
    half = len(batch) // 2
    as_worker, direct = (batch[:half], batch[half:]) if turn % 2 else (batch[half:], batch[:half])
    worker = worker_relinking(as_worker)
    timed: dict[str, float] = {}
    counts = {"relinked": 0, "gone": 0, "failed": 0}
    for name, ids in [("direct", direct), ("worker", as_worker)][:: 1 if turn % 2 else -1]:
        started = time.perf_counter()
        if name == "worker":
            done = worker(ids)
        else:
            summary = relink_stories(ids)
            done = {"relinked": summary.relinked, "gone": summary.gone, "failed": summary.failed}
        timed[name] = time.perf_counter() - started
        for key in counts:
            counts[key] += done[key] if key != "failed" else len(done[key])
    # The generator records the mentions the linker finds: relinking should keep every row.
    result.update(
        mentions_kept=mentions.filter(pk__lte=before[1]).count(),
        mentions_before=before[0],
        mentions_after=mentions.count(),
        elapsed=timed["worker"],
        stories=len(as_worker),
        direct_elapsed=timed["direct"],
        direct_stories=len(direct),
        singles=singles,
        summary=counts,
    )
    return result


def worker_relinking(article_ids: list[int]) -> Callable[[list[int]], dict]:
    """A function that relinks ``article_ids`` as a worker does, chunk by chunk through
    the relink task, after recording (untimed) the job and pending rows an edit would."""
    from explainer import scheduling, tasks
    from explainer.models import LibraryVersion, PendingRelink, RelinkJob

    job = RelinkJob.objects.create(reason="bench/scale.py", scope={"stories": article_ids})
    version = LibraryVersion.current()
    PendingRelink.objects.bulk_create(
        PendingRelink(job=job, article_id=pk, library_version=version) for pk in article_ids
    )

    def relink(ids: list[int]) -> dict:
        """The task's own summary ("relinked", "gone", "failed"), summed over chunks."""
        total: dict = {"relinked": 0, "gone": 0, "failed": []}
        for chunk in scheduling.chunked(ids):
            done = tasks.relink_chunk.call(chunk)
            for key in total:
                total[key] += done[key]
        return total

    return relink


def summarize_relinking(turns: list[dict]) -> dict:
    result = {
        key: turns[0][key]
        for key in ("build_ms", "warm_lookup_ms", "build_error")
        if key in turns[0]
    }
    stories = sum(turn["stories"] for turn in turns)
    elapsed = sum(turn["elapsed"] for turn in turns)
    direct = sum(turn["direct_stories"] for turn in turns)
    direct_elapsed = sum(turn["direct_elapsed"] for turn in turns)
    for key in ("mentions_kept", "mentions_before", "mentions_after"):
        result[key] = sum(turn[key] for turn in turns)
    result.update(
        throughput=stories / elapsed,
        direct_throughput=direct / direct_elapsed,
        stories=stories + direct,
        one_p50=statistics.median(value for turn in turns for value in turn["singles"]),
        summary=", ".join(
            f"{key} {sum(turn['summary'][key] for turn in turns):,}"
            for key in ("relinked", "gone", "failed")
        ),
    )
    progress(
        f"relinking: {stories:,} stories as a worker in {elapsed:.1f} s "
        f"({stories / elapsed:,.0f}/s), {direct:,} directly ({direct / direct_elapsed:,.0f}/s)"
    )
    return result


# Busy time before each timed round trip in ``measure_round_trips``: about what a request
# or a story's relink works between two queries.
WORK_BEFORE_QUERY_MS = 2.0


def measure_round_trips(effort: Effort) -> dict:
    """The database's own speed on this machine, which absolute targets depend on: a
    ``SELECT 1`` back to back, and after ``WORK_BEFORE_QUERY_MS`` of work in Python. On a
    virtual machine the second can cost several times the first (the database's process
    has gone idle and takes time to wake), and every query a request or a relink makes
    pays it."""
    from django.db import connection

    times: dict[str, list[float]] = {"back_to_back": [], "after_work": []}
    with connection.cursor() as cursor:
        for name, work_ms in (("back_to_back", 0.0), ("after_work", WORK_BEFORE_QUERY_MS)):
            for _ in range(effort.requests):
                busy_until = time.perf_counter() + work_ms / 1000
                while time.perf_counter() < busy_until:
                    pass
                started = time.perf_counter()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def summarize_round_trips(turns: list[dict]) -> dict:
    result = {
        key: statistics.median(value for turn in turns for value in turn[key])
        for key in ("back_to_back", "after_work")
    }
    progress(
        f"round trips: SELECT 1 p50 {result['back_to_back']:.3f} ms back to back, "
        f"{result['after_work']:.3f} ms after {WORK_BEFORE_QUERY_MS:.0f} ms of work"
    )
    return result


# The measurements, in the order they are taken, each with what sums up its turns.
MEASUREMENTS: dict[str, Callable[[list[dict]], dict]] = {
    "round_trips": summarize_round_trips,
    "search": summarize_search,
    "pages": summarize_pages,
    "story_save": summarize_story_save,
    "entry_saves": summarize_entry_saves,
    "relinking": summarize_relinking,
}


def guarded(results: dict, name: str, function: Callable[[], dict]) -> None:
    """One measurement's figures, or what went wrong: the others still run."""
    try:
        results[name] = function()
    except Exception as error:  # any failure is reported as an ERROR row, not a number
        traceback.print_exc()
        results[name] = {"error": f"{type(error).__name__}: {error}"[:300]}


def child(size: int, effort_name: str, result_path: Path, reply_fd: int) -> int:
    """Build the archive, then take a turn of a measurement each time the parent says
    "measure NAME N" on standard input, and on "finish" write the figures to
    ``result_path``.
    Replies ("ready", "done") go to the pipe ``reply_fd``."""
    global SIZE_LABEL
    SIZE_LABEL = f"[{size:,}] "
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # As pyproject.toml tells pytest: static files come through the finders here.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    replies = os.fdopen(reply_fd, "w", buffering=1)
    effort = QUICK if effort_name == "quick" else FULL
    turns = TURNS[effort_name]
    each = per_turn(effort, turns)
    timings: dict[str, float] = {}
    results: dict = {"size": size, "timings": timings, "facts": {}}
    with timed_part(timings, "build"):
        build_archive(size, results["facts"])
    reader = Client()
    editor = Client()
    editor.force_login(get_user_model().objects.get(username="bench-editor"))
    # What a turn of each measurement in MEASUREMENTS runs.
    measures: dict[str, Callable[[int], dict]] = {
        "round_trips": lambda turn: measure_round_trips(each),
        "search": lambda turn: measure_search(reader, each),
        "pages": lambda turn: measure_pages(reader, each, size),
        "story_save": lambda turn: measure_story_save(editor, each, size, turn),
        "entry_saves": lambda turn: measure_entry_saves(editor, each, turn),
        "relinking": lambda turn: measure_relinking(each, size, turn, turns),
    }
    taken: dict[str, list[dict]] = {name: [] for name in MEASUREMENTS}
    replies.write("ready\n")
    for line in sys.stdin:
        command = line.split()
        if command[:1] != ["measure"]:
            break
        name, turn = command[1], int(command[2])
        if "error" not in results.get(name, {}):
            with timed_part(timings, name):
                guarded(results, name, lambda: measures[name](turn))  # noqa: B023 (called here)
            if "error" not in results[name]:
                taken[name].append(results.pop(name))
        replies.write("done\n")
    for name, summarize in MEASUREMENTS.items():
        if "error" not in results.get(name, {}):
            guarded(results, name, lambda summarize=summarize, name=name: summarize(taken[name]))
    results["vendor"] = connection.vendor
    connection.close()
    result_path.write_text(json.dumps(results), encoding="utf-8")
    return 0


# --- the parent: databases, child processes, the summary ----------------------------------


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally


class Child:
    """A child process measuring one archive size, taking turns when told."""

    def __init__(self, *, size: int, effort_name: str, database_url: str, workdir: Path):
        self.size = size
        self.result_path = workdir / f"result-{size}.json"
        self.result_path.unlink(missing_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_TASKS_BACKEND": "db",  # a save records the relink; no worker runs
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SETTINGS_MODULE": "explainer.settings",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_CONN_MAX_AGE": "600",
        }
        env.pop("REDIS_URL", None)  # the local-memory cache, which the cold page clears
        reading, writing = os.pipe()
        command = [
            sys.executable, __file__, "--child", str(size), effort_name,
            str(self.result_path), str(writing),
        ]  # fmt: skip
        # Its own process group, so that it and its generator workers are stopped together.
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdin=subprocess.PIPE,
            text=True,
            pass_fds=(writing,),
        )
        os.close(writing)
        self.replies = os.fdopen(reading, "r")

    def expect(self, reply: str) -> None:
        line = self.replies.readline().strip()
        if line != reply:
            self.process.wait()
            raise BenchError(
                f"the {self.size:,}-story run stopped with exit status {self.process.returncode}"
            )

    def measure(self, name: str, turn: int) -> None:
        self._send(f"measure {name} {turn}")
        self.expect("done")

    def finish(self) -> dict:
        self._send("finish")
        code = self.process.wait()
        if code != 0 or not self.result_path.exists():
            raise BenchError(f"the {self.size:,}-story run stopped with exit status {code}")
        return json.loads(self.result_path.read_text(encoding="utf-8"))

    def _send(self, line: str) -> None:
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it has stopped: expect() and finish() say so

    def stop(self) -> None:
        self.replies.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextlib.contextmanager
def scratch_database(vendor: str, size: int, workdir: Path) -> Iterator[str]:
    if vendor == "sqlite":
        path = workdir / f"scale-{size}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in workdir.glob(f"scale-{size}.sqlite3*"):
                leftover.unlink(missing_ok=True)
    else:
        with postgres_database(f"{POSTGRES_NAME}_{size}") as url:
            yield url


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def error_of(*parts: dict | None) -> str | None:
    for part in parts:
        if part is None:
            return "not measured"
        if "error" in part:
            return part["error"]
    return None


def summary_rows(label: str, results: dict[int, dict]) -> list[Row]:
    sizes = sorted(results)
    small, large = results[sizes[0]], results[sizes[-1]]
    s, n = f"{sizes[0]:,}", f"{sizes[-1]:,}"
    rows: list[Row] = []
    compare = len(sizes) > 1

    mismatched = sorted(
        {field for r in results.values() for field in r["facts"].get("derived_mismatch", [])}
    )
    if mismatched:
        rows.append(
            failed(
                f"{label}: generated stories match Article.save()",
                "differ: " + ", ".join(mismatched),
            )
        )

    def scaled(title: str, part: str, key: str, target: tuple[str, float]) -> None:
        problem = error_of(small.get(part), large.get(part))
        if problem:
            rows.append(failed(title, problem))
        elif compare:
            a, b = large[part][key], small[part][key]
            rows.append(judged(title, ms(a), ms(b), a / b, target))

    scaled(f"{label}: story save p50, {n} aliases / {s}", "story_save", "p50", ("<=", 1.2))
    title = f"{label}: alias add / plain entry save, {n} stories"
    problem = error_of(large.get("entry_saves"))
    if problem:
        rows.append(failed(title, problem))
    else:
        part = large["entry_saves"]
        rows.append(
            judged(
                title,
                ms(part["alias_add_p50"]),
                ms(part["plain_p50"]),
                part["alias_add_p50"] / part["plain_p50"],
                ("<=", 1.5),
            )
        )

    title = f"{label}: relink throughput at {n} stories, one worker (its task)"
    direct_title = f"{label}: relink throughput at {n} stories, relink_stories alone"
    problem = error_of(large.get("relinking"))
    if problem:
        rows.append(failed(title, problem))
        rows.append(failed(f"{label}: relink one story (warm matcher), {n} aliases / {s}", problem))
    else:
        rate = large["relinking"]["throughput"]
        value, target = f"{rate:,.0f} stories/s", f"{RELINK_TARGET} stories/s"
        if label == "PostgreSQL":
            rows.append(judged(title, value, target, rate / RELINK_TARGET, (">=", 1.0)))
        else:
            rows.append(info(title, value, target, rate / RELINK_TARGET))
        direct = large["relinking"]["direct_throughput"]
        rows.append(info(direct_title, f"{direct:,.0f} stories/s", target, direct / RELINK_TARGET))
        scaled(
            f"{label}: relink one story (warm matcher), {n} aliases / {s}",
            "relinking",
            "one_p50",
            ("<=", 1.2),
        )
    for size in sizes:
        part = results[size].get("relinking") or {}
        if "build_ms" in part:
            base = small["relinking"].get("build_ms")
            rows.append(
                info(
                    f"{label}: matcher build, {size:,} aliases",
                    ms(part["build_ms"]),
                    ms(base) if base else "—",
                    part["build_ms"] / base if base else None,
                )
            )
        elif "build_error" in part:
            rows.append(failed(f"{label}: matcher build, {size:,} aliases", part["build_error"]))
            break

    scaled(f"{label}: search p95, {n} stories / {s}", "search", "p95", ("<=", 1.5))
    if not error_of(large.get("search")):
        p95 = large["search"]["p95"]
        title = f"{label}: search p95 at {n} stories / {SEARCH_P95_TARGET_MS:.0f} ms"
        if label == "PostgreSQL":
            rows.append(
                judged(
                    title,
                    ms(p95),
                    ms(SEARCH_P95_TARGET_MS),
                    p95 / SEARCH_P95_TARGET_MS,
                    ("<=", 1.0),
                )
            )
        else:
            rows.append(info(title, ms(p95), ms(SEARCH_P95_TARGET_MS), p95 / SEARCH_P95_TARGET_MS))
        robots = large["search"]["robots_p50"]
        rows.append(
            info(
                f"{label}: search p50 / /robots.txt p50, {n} stories",
                ms(large["search"]["p50"]),
                ms(robots),
                large["search"]["p50"] / robots,
            )
        )

    problem = error_of(large.get("pages"))
    for kind, title in (("cold", "cache cleared"), ("warm", "warm cache")):
        name = f"{label}: story page, {title} / minimal view, {n} stories"
        if problem:
            rows.append(failed(name, problem))
            continue
        page, robots = large["pages"][f"{kind}_p50"], large["pages"]["robots_p50"]
        rows.append(judged(name, ms(page), ms(robots), robots / page, (">=", 0.5)))

    title = (
        f"{label}: SELECT 1 after {WORK_BEFORE_QUERY_MS:.0f} ms of work / back to back, {n} stories"
    )
    problem = error_of(large.get("round_trips"))
    if problem:
        rows.append(failed(title, problem))
    else:
        trips = large["round_trips"]
        value, base = trips["after_work"], trips["back_to_back"]
        rows.append(info(title, f"{value:.2f} ms", f"{base:.2f} ms", value / base))
    return rows


def print_details(label: str, results: dict[int, dict]) -> None:
    heading(f"{label}: figures per size (p50 unless marked; ms)")
    columns = [
        ("search p95", "search", "p95"),
        ("search", "search", "p50"),
        ("robots", "search", "robots_p50"),
        ("page cold", "pages", "cold_p50"),
        ("page warm", "pages", "warm_p50"),
        ("story save", "story_save", "p50"),
        ("alias add", "entry_saves", "alias_add_p50"),
        ("entry save", "entry_saves", "plain_p50"),
        ("relink one", "relinking", "one_p50"),
        ("relink/s", "relinking", "throughput"),
        ("matcher", "relinking", "build_ms"),
    ]
    print(f"{'stories':>9}" + "".join(f"{title:>12}" for title, _, _ in columns))
    for size, result in sorted(results.items()):
        cells = []
        for _, part, key in columns:
            value = (result.get(part) or {}).get(key)
            cells.append(f"{'ERROR' if value is None else f'{value:,.1f}':>12}")
        print(f"{size:>9,}" + "".join(cells))
    print("\nSamples and facts:")
    for size, result in sorted(results.items()):
        facts = result["facts"]
        mismatch = facts.get("derived_mismatch")
        notes = [
            f"{facts.get('actors', 0):,} actors, {facts.get('aliases', 0):,} aliases, "
            f"{facts.get('mentions', 0):,} mentions; match_text by {facts.get('match_text')}, "
            + (
                "derived fields as Article.save() makes them"
                if mismatch == []
                else f"derived fields DIFFER from Article.save(): {mismatch}"
            ),
            f"migrate {facts.get('migrate_s', 0):.1f} s, stories generated and inserted in "
            f"{facts.get('stories_s', 0):.1f} s",
        ]
        samples = [
            f"{result[part]['n']} {what}"
            for part, what in (
                ("search", "search requests"),
                ("pages", "cold+warm page pairs"),
                ("story_save", "story saves"),
                ("entry_saves", "entry saves of each kind"),
            )
            if "n" in (result.get(part) or {})
        ]
        notes.append("samples: " + ", ".join(samples))
        story = result.get("story_save") or {}
        if "tasks" in story:
            tasks = story["tasks"]
            notes.append(
                "story saves: "
                + ("no database task backend" if tasks is None else f"{tasks} tasks recorded")
                + f", the story has {story['mentions']} rows of mentions in the admin"
            )
        mentioning = (result.get("entry_saves") or {}).get("stories_mentioning")
        if mentioning is not None:
            notes.append(f"entry saves: the actor is in {mentioning:,} stories")
        per_query = (result.get("search") or {}).get("per_query")
        if per_query:
            notes.append(
                "search p50 by query: "
                + ", ".join(f"{query!r} {value:.0f} ms" for query, value in per_query.items())
            )
        relink = result.get("relinking") or {}
        if "mentions_kept" in relink:
            notes.append(
                f"relinking {relink['stories']:,} stories kept {relink['mentions_kept']:,} of "
                f"{relink['mentions_before']:,} mention rows, {relink['mentions_after']:,} after; "
                f"{relink['summary']}"
            )
        print(f"{size:>9,}: " + notes[0])
        for note in notes[1:]:
            print(f"{'':>11}{note}")
        for part, values in result.items():
            if isinstance(values, dict) and "error" in values:
                print(f"{'':>11}{part}: ERROR {values['error']}")
    print("\nTime per part (s):")
    parts = ["build", "search", "pages", "story_save", "entry_saves", "relinking"]
    print(f"{'stories':>9}" + "".join(f"{part:>13}" for part in parts) + f"{'total':>10}")
    for size, result in sorted(results.items()):
        timings = result["timings"]
        print(
            f"{size:>9,}"
            + "".join(f"{timings.get(part, 0):>13.1f}" for part in parts)
            + f"{sum(timings.values()):>10.1f}"
        )


def run_vendor(vendor: str, sizes: list[int], effort_name: str, workdir: Path) -> list[Row]:
    """Every size on one database: the archives built side by side, then each measurement
    taken in turns, the sizes taking turns, so that the ratios between sizes are measured
    over the same minutes."""
    label = "SQLite" if vendor == "sqlite" else "PostgreSQL"
    turns = TURNS[effort_name]
    rows: list[Row] = []
    results: dict[int, dict] = {}
    children: dict[int, Child] = {}
    started = time.monotonic()

    def each_child(step: str, act: Callable[[Child], object]) -> None:
        for size, child in list(children.items()):
            try:
                act(child)
            except BenchError as error:
                print(f"{label} at {size:,} not measured: {error}", file=sys.stderr)
                rows.append(failed(f"{label}, {size:,} stories", f"not run: {error}"))
                del children[size]
        print(f"    {step} ({time.monotonic() - started:.0f} s, {load_average()})", flush=True)

    with contextlib.ExitStack() as stack:
        heading(f"{label}: building {', '.join(f'{size:,}' for size in sizes)} stories")
        for size in sizes:
            url = stack.enter_context(scratch_database(vendor, size, workdir))
            child = Child(size=size, effort_name=effort_name, database_url=url, workdir=workdir)
            stack.callback(child.stop)
            children[size] = child
        each_child("built", lambda child: child.expect("ready"))
        heading(f"{label}: measuring, the sizes taking {turns} turns each")
        for name in MEASUREMENTS:
            for turn in range(turns):
                each_child(
                    f"{name}, turn {turn + 1} of {turns}",
                    lambda child, name=name, turn=turn: child.measure(name, turn),
                )
        each_child("finished", lambda child: results.update({child.size: child.finish()}))
    if results:
        print_details(label, results)
        rows += summary_rows(label, results)
    return rows


def run(sizes: list[int], vendors: list[str], effort_name: str) -> list[Row]:
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="explainer-scale-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        for vendor in vendors:
            rows += run_vendor(vendor, sizes, effort_name, workdir)
    return rows


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        return child(int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), int(sys.argv[5]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer samples")
    parser.add_argument("--sizes", help="comma-separated story (and alias) counts, e.g. 1000,5000")
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="sqlite, postgres or both (the default)"
    )
    options = parser.parse_args()
    sizes = (
        sorted({int(size.replace("_", "")) for size in options.sizes.split(",")})
        if options.sizes
        else list(QUICK_SIZES if options.quick else FULL_SIZES)
    )
    vendors = [name.strip() for name in options.databases.split(",") if name.strip()]
    if not set(vendors) <= {"sqlite", "postgres"} or not sizes or min(sizes) < 100:
        parser.error("--databases takes sqlite and/or postgres; --sizes counts of at least 100")
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    effort_name = "quick" if options.quick else "full"
    listed = ", ".join(f"{size:,}" for size in sizes)
    print(f"Sizes {listed} (stories, and aliases); {', '.join(vendors)}; {effort_name} effort")
    print(f"At the start: {load_average()} (1, 5, 15 min)")
    started = time.monotonic()
    try:
        rows = run(sizes, vendors, effort_name)
    except BenchError as error:
        print(f"\nbench/scale.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench/scale.py: interrupted; scratch databases dropped.", file=sys.stderr)
        return 130
    took = time.monotonic() - started
    heading(f"Summary ({effort_name} run, {took:.0f} s; at the end: {load_average()})")
    cells = table_cells(rows)
    print_table(cells)
    print("\nMarkdown:\n")
    print_markdown(cells)
    return 1 if any(row.status == "ERROR" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
