"""Looking up stories, aliases and entries by their words through an index, never by
scanning every row: SQLite FTS5 tables, or PostgreSQL full-text search and pg_trgm.

This is the only module that knows how either database indexes text; each function has
one signature on both. The tables and indexes are made by migration 0010_text_indexes
(and 0014, which put the headline's words in PostgreSQL's story vector):

- SQLite: ``explainer_article_fts`` (FTS5 over ``match_text`` and ``headline``, external
  content, kept in step by triggers), and FTS5 ``trigram`` tables over aliases' normal
  forms (``explainer_alias_trigram``) and entries' descriptions (``explainer_actor_trigram``,
  ``explainer_backgroundnote_trigram``).
- PostgreSQL: the generated column ``explainer_article.match_tsv`` (the words of
  ``match_text`` and of the headline, without positions), GIN-indexed; and pg_trgm GIN
  indexes on ``explainer_alias.normalized`` and on each entry table's
  ``lower(description)``.

Index lookups answer "which rows hold these words", so callers that need more (the linker
matching a phrase on word boundaries) check the few rows found.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from .linking import TranslationTable, fold, is_hangul, is_word_char, parse_html
from .spelling import trigrams

# A trigram index cannot answer a query shorter than a trigram.
MIN_SUBSTRING_CHARS = 3

# Queries up to this long also take as spelling candidates the aliases that start as they
# do: what a typo in a short word leaves of its trigrams may match nothing.
PREFIX_CANDIDATE_CHARS = 8

# Aliases a SQLite trigram lookup for spelling candidates ranks, at most (see
# ``_sqlite_resembling``): 1,000 took half as long again at 100,000 aliases, finding the same.
SQLITE_RANKED = 500

# Above every character: ``x <= value < x + _LAST_CHAR`` is "value starts with x", a range
# a B-tree index answers.
_LAST_CHAR = "\U0010ffff"

# Words are matched as word sets: a phrase query on PostgreSQL needs positions, which it
# clamps at 16,383, so phrases late in a long story would be missed. When PostgreSQL's parser
# splits one of our words in two (a character it does not count as a letter), to_tsquery
# joins the parts with a phrase operator, which never matches a vector without positions;
# the outer to_tsquery reads the query back with those operators turned into "and".
_PG_TSQUERY = (
    "to_tsquery('simple', regexp_replace(to_tsquery('simple', %s)::text, '<(-|[0-9]+)>', '&', 'g'))"
)


def _index_char(char: str) -> str:
    # "_" counts as a word character for the linker, but both databases' tokenizers split
    # words on it; splitting here too keeps stored words and query words alike.
    return fold(char) if char != "_" and is_word_char(char) else " "


# Each character in its indexed form: folded as the linker folds it if it is a word
# character, else a space.
_INDEX_CHARS = TranslationTable(_index_char)


def index_words(text: str) -> str:
    """The words of ``text`` in the linker's normal form (lower case, as ``linking.fold``
    folds it), separated by single spaces: every character that is not a word character,
    and "_", becomes a space. "Kim Jong-un’s visit_2019" gives "kim jong un s visit 2019"."""
    return " ".join(text.translate(_INDEX_CHARS).split())


def story_index_text(body_html: str) -> str:
    """What ``Article.match_text`` holds for a sanitized body: the words of its text nodes.
    The nodes are joined with a space because the linker matches inside one text node, so
    "<p>Kim</p><p>Jong</p>" must give the words "kim jong", never "kimjong"."""
    return index_words(" ".join(node.text for node in parse_html(body_html).text_nodes))


def _sqlite_phrase(text: str, *, prefix: bool = False) -> str:
    return '"' + text.replace('"', '""') + '"' + ("*" if prefix else "")


def _pg_term(word: str, *, prefix: bool = False) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")


def _vendor() -> str:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"No text index for {connection.vendor} databases.")
    return connection.vendor


def _alias_sql(normalized_alias: str) -> tuple[str, list[str]] | None:
    words = index_words(normalized_alias).split()
    if not words:
        return None
    # Korean attaches particles to the noun ("김정은은"), so the story's word may be longer.
    last_is_prefix = is_hangul(normalized_alias[-1])
    if _vendor() == "sqlite":
        terms = [_sqlite_phrase(word) for word in words[:-1]]
        terms.append(_sqlite_phrase(words[-1], prefix=last_is_prefix))
        query = f"match_text : ({' '.join(terms)})"
        sql = "SELECT rowid FROM explainer_article_fts WHERE explainer_article_fts MATCH %s"
        return sql, [query]
    terms = [_pg_term(word) for word in words[:-1]]
    terms.append(_pg_term(words[-1], prefix=last_is_prefix))
    sql = f"SELECT id FROM explainer_article WHERE match_tsv @@ {_PG_TSQUERY}"
    return sql, [" & ".join(terms)]


def containing_alias(normalized_alias: str) -> Q:
    """A filter on ``Article`` querysets: the stories ``articles_containing`` returns."""
    found = _alias_sql(normalized_alias)
    return Q(pk__in=[]) if found is None else Q(pk__in=RawSQL(*found))


def articles_containing(normalized_alias: str) -> set[int]:
    """The ids of every story whose body the linker could match this alias in (an alias's
    ``normalized`` form, as ``linking.normalize_alias`` gives it), and maybe a few more.

    The contract is a superset: if ``linking.find_mentions`` over a story's saved
    ``body_html`` finds the alias, the story's id is in the set; a story may also be in it
    when it holds the alias's words in another order or in separate paragraphs, so callers
    relink what they get and the linker decides. Found by index (the words of
    ``index_words(normalized_alias)``, all of them, anywhere in ``match_text``; the last one
    as a prefix when the alias ends in a Hangul syllable, for "김정은은"), whatever the number
    of stories. An alias with no letter or digit has no word to look up: nothing is returned
    (``Alias.clean`` refuses such aliases)."""
    found = _alias_sql(normalized_alias)
    if found is None:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(*found)
        return {row[0] for row in cursor.fetchall()}


def query_words(query: str, *, last_whole: bool = False) -> list[tuple[str, bool]]:
    """The words of a reader's query in the linker's normal form, each with whether it may
    be the start of a longer word: the last one (the reader may still be typing it: "puti"
    finds Putin), unless ``last_whole``, and every Hangul word (Korean attaches particles:
    "김정은" finds 김정은은). The other words must be whole: a prefix costs an index scan
    of every word it starts, which grows with the archive, where a whole word is one
    lookup."""
    words = index_words(query).split()
    last = len(words) - 1
    return [
        (word, (position == last and not last_whole) or is_hangul(word[-1]))
        for position, word in enumerate(words)
    ]


def query_holder(query: str, *, last_whole: bool = False) -> Callable[[str], bool]:
    """A test of whether a text (a headline) holds every word of a reader's query as
    ``matching_words`` looks for them: the words ``query_words`` gives, whole or as the
    start of one of the text's words."""
    wanted = query_words(query, last_whole=last_whole)

    def holds(text: str) -> bool:
        words = set(index_words(text).split())
        return all(
            word in words or (prefix and any(found.startswith(word) for found in words))
            for word, prefix in wanted
        )

    return holds


def matching_words(query: str, *, newest: int | None = None, last_whole: bool = False) -> Q:
    """A filter on ``Article`` querysets: stories whose body or headline holds every word
    of a reader's query (``query_words``: whole, or the last, unless ``last_whole``, and
    any Hangul word as the start of one), in any spelling the linker folds alike. A query
    with no word matches nothing. With ``newest``, only that many of the most recently
    added matching stories: a whole word in every story then costs a walk down the index,
    not a read of every match (a word's start still costs a read of every word it
    starts: both databases merge their lists before the first match)."""
    words = query_words(query, last_whole=last_whole)
    if not words:
        return Q(pk__in=[])
    limit = " ORDER BY {column} DESC LIMIT %s" if newest else ""
    if _vendor() == "sqlite":
        match = " ".join(_sqlite_phrase(word, prefix=prefix) for word, prefix in words)
        sql = "SELECT rowid FROM explainer_article_fts WHERE explainer_article_fts MATCH %s"
        sql += limit.format(column="rowid")
        return Q(pk__in=RawSQL(sql, [match, *([newest] if newest else [])]))
    # The stored vector holds the headline's words too (migration 0014): one GIN scan
    # answers every word.
    sql = f"SELECT id FROM explainer_article WHERE match_tsv @@ {_PG_TSQUERY}"
    sql += limit.format(column="id")
    terms = " & ".join(_pg_term(word, prefix=prefix) for word, prefix in words)
    return Q(pk__in=RawSQL(sql, [terms, *([newest] if newest else [])]))


def alias_matching(normalized: str) -> Q:
    """A filter on ``Alias`` querysets: aliases whose normal form contains ``normalized``
    (a query in ``linking.normalize_alias`` form), or, when it is shorter than three
    characters, starts with it (a B-tree range on the unique ``normalized`` column)."""
    if not normalized:
        return Q(pk__in=[])
    if len(normalized) < MIN_SUBSTRING_CHARS:
        return Q(normalized__gte=normalized, normalized__lt=normalized + _LAST_CHAR)
    if _vendor() == "sqlite":
        sql = "SELECT rowid FROM explainer_alias_trigram WHERE explainer_alias_trigram MATCH %s"
        return Q(pk__in=RawSQL(sql, [_sqlite_phrase(normalized)]))
    # LIKE '%…%' on a column with a pg_trgm GIN index is an index scan.
    return Q(normalized__contains=normalized)


def alias_resembling(normalized: str, *, limit: int) -> Q:
    """A filter on ``Alias`` querysets: at most ``limit`` aliases spelled like
    ``normalized`` (a query in ``linking.normalize_alias`` form), the most alike first, as
    candidates for ``spelling.closeness`` to judge: "kim jong eun" finds "kim jong un",
    "putn" finds "putin". Found by trigram index, whatever the number of aliases:

    - PostgreSQL: pg_trgm's word similarity (``%>``, at its threshold, 0.6 by default:
      the query's trigrams against the alias's closest run of words).
    - SQLite: the FTS5 trigram table (``_sqlite_resembling``).

    A typo can touch every trigram of a short word ("puitn" shares none with "putin";
    "김정운", one trigram, none with "김정은"), so for a short query, aliases starting with
    its first two characters are candidates too: at most ``limit`` of them, in index order
    (a B-tree range on ``normalized``)."""
    if len(normalized) < 2:
        return Q(pk__in=[])
    # One subquery, a union of bounded lookups: "pk IN (a) OR pk IN (b)" would make the
    # database read every alias to test each of them against both.
    lookups: list[tuple[str, list]] = []
    if len(normalized) <= PREFIX_CANDIDATE_CHARS:
        start = normalized[:2]
        lookups.append(
            (
                "SELECT id FROM explainer_alias WHERE normalized >= %s AND normalized < %s "
                "ORDER BY normalized LIMIT %s",
                [start, start + _LAST_CHAR, limit],
            )
        )
    if _vendor() == "sqlite":
        lookups += _sqlite_resembling(normalized, limit=limit)
    else:
        lookups.append(
            (
                "SELECT id FROM explainer_alias WHERE normalized %%> %s "
                "ORDER BY word_similarity(%s, normalized) DESC LIMIT %s",
                [normalized, normalized, limit],
            )
        )
    if not lookups:
        return Q(pk__in=[])
    sql = " UNION ".join(
        f"SELECT id FROM ({lookup}) AS part_{i}" for i, (lookup, _) in enumerate(lookups)
    )
    return Q(pk__in=RawSQL(sql, [param for _, params in lookups for param in params]))


def _sqlite_resembling(normalized: str, *, limit: int) -> list[tuple[str, list]]:
    """``alias_resembling``'s lookup on SQLite: aliases holding trigrams
    (``spelling.trigrams``) of two of the query's words, then, only when there are fewer
    than ``limit`` of those, aliases holding any of its trigrams; at most ``limit`` of
    each, best ranked (bm25) first.

    Ranking costs a little for every alias a MATCH finds, and a query's commonest piece
    may be in most of them ("per" of "persn 4321"): each MATCH ranks at most
    ``SQLITE_RANKED`` of its aliases. The pairs come first so that a common word cannot
    crowd them out, and alone when they are enough: among 100,000 aliases, "noh wan young"
    took 8.9 ms ranking 1,000 of each, 5.9 ms for the pairs alone; ranking 500, 5.4 and
    4.0 ms (bench/scale.py's archive)."""
    groups = [
        "(" + " OR ".join(_sqlite_phrase(piece) for piece in pieces) + ")"
        for pieces in trigrams(normalized)
    ]
    if not groups:
        return []
    ranked = (
        "SELECT id FROM (SELECT rowid AS id, rank FROM explainer_alias_trigram "
        "WHERE explainer_alias_trigram MATCH %s LIMIT {ranked}) ORDER BY rank LIMIT %s"
    )
    any_piece = " OR ".join(groups)
    pairs = [f"({a} AND {b})" for i, a in enumerate(groups[:3]) for b in groups[i + 1 : 3]]
    if not pairs:
        return [(ranked.format(ranked="%s"), [any_piece, SQLITE_RANKED, limit])]
    # The pairs materialized, so that they are counted before the other MATCH starts,
    # which then reads nothing when told to rank none.
    if_short = "(CASE WHEN (SELECT count(*) FROM paired) < %s THEN %s ELSE 0 END)"
    sql = (
        f"WITH paired AS MATERIALIZED ({ranked.format(ranked='%s')}) "
        f"SELECT id FROM paired UNION SELECT id FROM ({ranked.format(ranked=if_short)})"
    )
    paired_params = [" OR ".join(pairs), SQLITE_RANKED, limit]
    return [(sql, [*paired_params, any_piece, limit, SQLITE_RANKED, limit])]


def description_matching(model: type, query: str, *, limit: int | None = None) -> Q:
    """A filter on an entry model's querysets (``Actor``, ``BackgroundNote``): entries whose
    description contains ``query``, whatever the case; with ``limit``, that many of them at
    most (a word in thousands of descriptions then costs what a rare one does). Queries
    shorter than three characters match nothing: no index can answer them."""
    if len(query) < MIN_SUBSTRING_CHARS:
        return Q(pk__in=[])
    table = model._meta.db_table
    tail = " LIMIT %s" if limit else ""
    if _vendor() == "sqlite":
        fts = connection.ops.quote_name(f"{table}_trigram")
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s" + tail
        return Q(pk__in=RawSQL(sql, [_sqlite_phrase(query), *([limit] if limit else [])]))
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = (
        f"SELECT id FROM {connection.ops.quote_name(table)} WHERE lower(description) LIKE lower(%s)"
        + tail
    )
    return Q(pk__in=RawSQL(sql, [pattern, *([limit] if limit else [])]))
