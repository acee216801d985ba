"""The linker against a corpus of stories about the events around the seed, in English and
Korean, with a gold file of what a careful editor links and what must not link (issue #11;
tests/corpus/README.md). The demo library is loaded and each story imported as an editor
would, with ``import_article``."""

import io

import pytest
from django.core.management import call_command

from explainer.importing import parse_story
from explainer.linking import parse_html
from explainer.models import Article

from .corpus_scoring import CORPUS, Score, gold_stories, score

pytestmark = pytest.mark.django_db


def imported_corpus() -> dict[str, Article]:
    stories = {}
    for path in sorted(CORPUS.glob("*.txt")):
        call_command("import_article", str(path), "--publish", stdout=io.StringIO())
        headline = parse_story(path.read_text(encoding="utf-8")).headline
        stories[path.name] = Article.objects.get(headline=headline)
    return stories


def links_of(article: Article) -> list[tuple[int, int, str]]:
    return [
        (mention.start, mention.start + len(mention.quote), mention.entry.slug)
        for mention in article.mentions.filter(is_linked=True).select_related("actor", "note")
    ]


def corpus_score(stories: dict[str, Article], *, every_mention: bool) -> Score:
    texts = {name: parse_html(article.body_html).text for name, article in stories.items()}
    total = Score()
    for story in gold_stories(texts.__getitem__):
        article = stories[story.file]
        article.link_every_mention = every_mention
        article.save()
        article.refresh_from_db()
        total.add(score(story, links_of(article), texts[story.file], first_only=not every_mention))
    return total


@pytest.mark.parametrize("every_mention", [True, False], ids=["every mention", "first mention"])
def test_corpus_links_the_right_entry_and_nearly_every_name(demo, every_mention):
    result = corpus_score(imported_corpus(), every_mention=every_mention)

    assert result.wrong == []
    assert result.recall >= 0.95, "\n".join(result.missed)


def body_text(name: str) -> str:
    story = parse_story((CORPUS / name).read_text(encoding="utf-8"))
    return parse_html(story.body_html).text


def test_corpus_covers_every_rule_and_both_languages():
    stories = gold_stories(
        lambda name: (
            parse_html(parse_story((CORPUS / name).read_text(encoding="utf-8")).body_html).text
        )
    )
    # A rule's kind, before any explanation in brackets: "ambiguous (two candidates …)".
    rules = {span.rule.split(" (")[0] for story in stories for span in story.must_not_link}

    assert len(stories) >= 6
    assert {"2018-04-27", "2019-04-25"} <= {story.date for story in stories}
    assert any(name.endswith("-ko.txt") for name in (story.file for story in stories))
    assert sum(len(story.must_not_link) for story in stories) >= 30
    assert {"ambiguous", "ordinary word", "adjective"} <= rules
