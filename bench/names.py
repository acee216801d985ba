"""Name resolution against the corpus (tests/corpus/, issue #11): precision and recall of
the linker with the demo library, in a scratch SQLite database, beside a baseline measured
in the same run: every phrase the matcher finds linked to its entry whenever only one entry
owns it, with no reading of context (what the linker did before name resolution). Also the
time to link a story, as a ratio of the time the matcher alone takes on it."""

import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
scratch = tempfile.TemporaryDirectory()
os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/names.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "explainer.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from explainer.importing import parse_story  # noqa: E402
from explainer.linking import find_mentions, parse_html  # noqa: E402
from explainer.models import Article  # noqa: E402
from explainer.relinking import current_library, link_article, relink_story  # noqa: E402
from tests.corpus_scoring import CORPUS, Score, gold_stories, score  # noqa: E402

ROUNDS = 20


def imported() -> dict[str, Article]:
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    stories = {}
    for path in sorted(CORPUS.glob("*.txt")):
        call_command("import_article", str(path), "--publish", stdout=io.StringIO())
        headline = parse_story(path.read_text(encoding="utf-8")).headline
        stories[path.name] = Article.objects.get(headline=headline)
    return stories


def slug_of(key: str, library) -> str:
    return library.entries[key].slug


def baseline_links(article: Article, library) -> list[tuple[int, int, str]]:
    parsed = parse_html(article.body_html)
    return [
        (hit.start, hit.end, slug_of(hit.targets[0], library))
        for hit in find_mentions(parsed=parsed, matcher=library.matcher)
        if len(hit.targets) == 1 and not any(term.role for term in hit.terms)
    ]


def resolved_links(article: Article) -> list[tuple[int, int, str]]:
    relink_story(article.pk)
    return [
        (mention.start, mention.start + len(mention.quote), mention.entry.slug)
        for mention in article.mentions.filter(is_linked=True).select_related("actor", "note")
    ]


def scores(stories: dict[str, Article], texts: dict[str, str], *, every: bool):
    library = current_library()
    resolved, baseline = Score(), Score()
    for story in gold_stories(texts.__getitem__):
        article = stories[story.file]
        Article.objects.filter(pk=article.pk).update(link_every_mention=every)
        article.refresh_from_db()
        text = texts[story.file]
        resolved.add(score(story, resolved_links(article), text, first_only=not every))
        links = baseline_links(article, library)
        if not every:
            seen: set[str] = set()
            links = [link for link in links if not (link[2] in seen or seen.add(link[2]))]
        baseline.add(score(story, links, text, first_only=not every))
    return resolved, baseline


def per_story_ms(work) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        work()
    return (time.perf_counter() - started) * 1000 / ROUNDS


def main() -> None:
    stories = imported()
    texts = {name: parse_html(article.body_html).text for name, article in stories.items()}
    print(f"Name resolution on {len(stories)} corpus stories (tests/corpus), demo library")
    print(f"{'mode':<16}{'linker':<10}{'recall':>8}{'precision':>11}{'wrong':>7}{'linked':>8}")
    for every in (True, False):
        resolved, baseline = scores(stories, texts, every=every)
        mode = "every mention" if every else "first mention"
        for name, result in (("resolved", resolved), ("baseline", baseline)):
            print(
                f"{mode:<16}{name:<10}{result.recall:>8.3f}{result.precision:>11.3f}"
                f"{len(result.wrong):>7}{result.linked:>8}"
            )
        if baseline.wrong:
            ratio = len(resolved.wrong) / len(baseline.wrong)
            print(f"{'':<16}wrong links, resolved / baseline: {ratio:.2f}")
    library = current_library()
    articles = list(stories.values())
    match_ms = sum(
        per_story_ms(
            lambda a=a: find_mentions(parsed=parse_html(a.body_html), matcher=library.matcher)
        )
        for a in articles
    )
    link_ms = sum(per_story_ms(lambda a=a: link_article(a, library=library)) for a in articles)
    print(
        f"link a story, resolution included, / the matcher alone: {link_ms / match_ms:.2f} "
        f"({link_ms / len(articles):.2f} ms against {match_ms / len(articles):.2f} ms a story)"
    )


if __name__ == "__main__":
    main()
