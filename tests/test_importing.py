"""Reading plain-text stories (parse_story) and the commands that import them."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from explainer.importing import StoryFormatError, parse_story
from explainer.models import Actor, Alias, Article, BackgroundNote, Figure, Mention, Source
from explainer.suggestions import suggest_names
from tests.factories import make_actor, make_note

pytestmark = pytest.mark.django_db

SEED_STORY = (
    Path(__file__).resolve().parents[1]
    / "explainer"
    / "demo"
    / "korea-times-2019-04-25-kim-putin-summit.txt"
)
HEADLINE = "Kim Jong-un, Putin discuss how to handle US"
HEADER_STORY = """\
Title: Lavrov visits Pyongyang
Source: Yonhap
Date: 2019-05-02
Byline: By Kim Hyun-jin

Russian Foreign Minister Sergei Lavrov arrived in Pyongyang on Thursday.

Lavrov is expected to meet Choe Son-hui before he leaves on Friday.
"""
ALL_MODELS = [Article, Figure, Actor, BackgroundNote, Alias, Source, Mention]


def seed_text() -> str:
    return SEED_STORY.read_text(encoding="utf-8")


def seed_paragraphs() -> list[str]:
    """The story's paragraphs as the file lays them out: after the byline, before the page's
    furniture, one per blank-line-separated block."""
    story = seed_text().split("By Lee Min-hyung\n\n", 1)[1].split("\n\n\nTop 10 Stories", 1)[0]
    return [" ".join(block.split()) for block in story.split("\n\n")]


def write_story(tmp_path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def import_article(*args, stderr=None, **options) -> str:
    stdout = io.StringIO()
    call_command(
        "import_article", *map(str, args), stdout=stdout, stderr=stderr or io.StringIO(), **options
    )
    return stdout.getvalue()


def summary_rows(stdout: str) -> list[list[str]]:
    """The rows of import_article's summary table, split into cells, without its header."""
    table = stdout.split("\n\n", 1)[0].splitlines()
    assert re.split(r"\s{2,}", table[0]) == [
        "File",
        "Headline",
        "Status",
        "Mentions (linked)",
        "Suggestions",
    ]
    return [re.split(r"\s{2,}", line) for line in table[1:]]


def load_demo() -> None:
    call_command("load_demo", stdout=io.StringIO())


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def story_body(client, article) -> str:
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    found = re.search(r'<div class="story-body"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    return found[1]


@pytest.fixture
def putin():
    return make_actor(name="Vladimir Putin", slug="vladimir-putin", aliases=("Putin",))


# parse_story: the seed clipping


def test_parse_story_seed_file_reads_headline_dek_and_byline():
    story = parse_story(seed_text())

    assert story.headline == HEADLINE
    assert story.dek == "NK leader wants security guarantee for denuclearization"
    assert story.byline == "Lee Min-hyung"


def test_parse_story_seed_file_reads_three_figures_with_credits():
    story = parse_story(seed_text())

    assert [figure.credit for figure in story.figures] == ["AP-Yonhap", "AFP", "AP"]
    assert story.figures[0].caption.startswith("North Korean leader Kim Jong-un shakes hands")
    assert story.figures[0].caption.endswith("before their first ever summit.")
    assert story.figures[1].caption.endswith(
        "in the far-eastern Russian port of Vladivostok on April 25."
    )
    assert story.figures[2].caption.startswith("Artists perform during a reception")
    assert story.figures[2].caption.endswith("in Vladivostok, Russia, April 25.")


def test_parse_story_seed_file_keeps_every_paragraph_in_order():
    story = parse_story(seed_text())

    assert story.paragraphs == seed_paragraphs()
    assert len(story.paragraphs) == 22
    assert story.paragraphs[0].startswith("North Korean leader Kim Jong-un participated")
    assert story.paragraphs[-1].startswith(
        "As a permanent member of the United Nations Security Council"
    )


@pytest.mark.parametrize("furniture", ["Top 10 Stories", "LETTER", "Sign up for eNewsletter"])
def test_parse_story_seed_file_drops_page_furniture(furniture):
    story = parse_story(seed_text())

    parts = [story.headline, story.dek, story.byline, *story.paragraphs]
    parts += [figure.caption + figure.credit for figure in story.figures]
    assert not any(furniture in part for part in parts)
    assert furniture not in story.body_html


def test_parse_story_seed_file_with_windows_line_endings_reads_the_same():
    text = seed_text().replace("\n", "\r\n")

    story = parse_story(text)

    assert story == parse_story(seed_text())


# parse_story: the header shape


def test_parse_story_header_shape_reads_headers_and_paragraphs():
    story = parse_story(HEADER_STORY)

    assert story.headline == "Lavrov visits Pyongyang"
    assert story.outlet == "Yonhap"
    assert story.published_on.isoformat() == "2019-05-02"
    assert story.byline == "Kim Hyun-jin"
    assert story.paragraphs == [
        "Russian Foreign Minister Sergei Lavrov arrived in Pyongyang on Thursday.",
        "Lavrov is expected to meet Choe Son-hui before he leaves on Friday.",
    ]


def test_parse_story_header_shape_reads_optional_headers():
    text = HEADER_STORY.replace(
        "Byline: By Kim Hyun-jin\n",
        "Byline: Kim Hyun-jin\nDek: A first visit\nDateline: Pyongyang\nURL: https://example.com/a\n",
    )

    story = parse_story(text)

    assert story.byline == "Kim Hyun-jin"
    assert story.dek == "A first visit"
    assert story.dateline == "Pyongyang"
    assert story.original_url == "https://example.com/a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER_STORY.replace("2019-05-02", "2019-13-02"), "Date: '2019-13-02' is not a date"),
        (HEADER_STORY.replace("2019-05-02", "2 May 2019"), "is not a date in YYYY-MM-DD form"),
        (HEADER_STORY.replace("Source:", "Author:"), "Unknown header 'Author'"),
        (HEADER_STORY.replace("Title: Lavrov visits Pyongyang\n", ""), "Title: header is missing"),
        (HEADER_STORY.replace("Title: Lavrov visits Pyongyang", "Title:"), "Title: header is"),
        ("Title: Lavrov visits Pyongyang\nDate: 2019-05-02\n", "no paragraphs after its headers"),
        ("", "The file is empty."),
        ("\ufeff  \n\n\t\n", "The file is empty."),
        ("Kim Jong-un, Putin discuss how to handle US\n", "needs a headline and at least one"),
        ("Kim meets Putin\n\nBy Lee Min-hyung\n", "no paragraphs after its byline"),
    ],
)
def test_parse_story_malformed_file_raises_clear_error(text, message):
    with pytest.raises(StoryFormatError, match=re.escape(message)):
        parse_story(text)


@pytest.mark.parametrize("separator", ["   ", "\t"])
def test_parse_story_header_shape_with_whitespace_only_blank_line_parses(separator):
    text = HEADER_STORY.replace("Kim Hyun-jin\n\n", f"Kim Hyun-jin\n{separator}\n")

    story = parse_story(text)

    assert len(story.paragraphs) == 2


# import_article


def test_import_article_creates_draft_with_mentions_found(tmp_path, putin):
    lavrov = make_actor(name="Sergei Lavrov", slug="sergei-lavrov", aliases=("Lavrov",))
    path = write_story(tmp_path, "lavrov.txt", HEADER_STORY)

    stdout = import_article(path)

    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert article.headline == "Lavrov visits Pyongyang"
    assert article.outlet == "Yonhap"
    assert article.mentions.filter(actor=lavrov).count() == 2
    assert article.mentions.filter(actor=lavrov, is_linked=True).count() == 1
    assert 'href="/actors/sergei-lavrov/' in article.linked_body_html
    assert summary_rows(stdout)[0][1:4] == ["Lavrov visits Pyongyang", "created", "2 (1)"]
    assert not Article.objects.published().exists()


def test_import_article_seed_file_finds_mentions_of_the_library(tmp_path, putin):
    note = make_note(title="Six-party talks", slug="six-party-talks")
    Alias.objects.create(note=note, text="six-party nuclear talks")

    import_article(SEED_STORY)

    article = Article.objects.get()
    assert article.headline == HEADLINE
    assert article.mentions.filter(actor=putin).count() == sum(
        paragraph.count("Putin") for paragraph in seed_paragraphs()
    )
    assert article.mentions.filter(note=note).count() == 3
    assert article.figures.count() == 3


def test_import_article_same_file_twice_keeps_one_article_unchanged(putin):
    import_article(SEED_STORY)
    first = row_counts()

    stdout = import_article(SEED_STORY)

    assert row_counts() == first
    assert Article.objects.count() == 1
    assert Figure.objects.count() == 3
    assert summary_rows(stdout)[0][1:3] == [HEADLINE, "unchanged"]


def test_import_article_published_with_date_shows_linked_story(tmp_path, client, putin):
    path = write_story(tmp_path, "summit.txt", seed_text())

    import_article(path, "--publish", "--date", "2019-04-25", "--outlet", "The Korea Times")

    article = Article.objects.get()
    assert article.status == Article.Status.PUBLISHED
    assert article.outlet == "The Korea Times"
    assert 'href="/actors/vladimir-putin/?as_of=2019-04-25"' in story_body(client, article)


def test_import_article_header_date_is_used_to_publish(tmp_path, client):
    path = write_story(tmp_path, "lavrov.txt", HEADER_STORY)

    import_article(path, "--publish")

    article = Article.objects.get()
    assert article.published_at.date().isoformat() == "2019-05-02"
    assert client.get(article.get_absolute_url()).status_code == 200


def test_import_article_publish_without_any_date_is_reported(tmp_path):
    path = write_story(tmp_path, "undated.txt", HEADER_STORY.replace("Date: 2019-05-02\n", ""))

    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 of 1 files were not imported."):
        import_article(path, "--publish", stderr=stderr)

    assert "has no date, so it cannot be published" in stderr.getvalue()
    assert not Article.objects.exists()


def test_import_article_bad_date_option_is_command_error(tmp_path):
    path = write_story(tmp_path, "lavrov.txt", HEADER_STORY)

    with pytest.raises(CommandError, match="--date '25/04/2019' is not a date"):
        import_article(path, "--date", "25/04/2019")

    assert not Article.objects.exists()


def test_import_article_bad_file_among_good_ones_imports_only_the_good(tmp_path, putin):
    good = write_story(tmp_path, "lavrov.txt", HEADER_STORY)
    bad = write_story(tmp_path, "bad.txt", HEADER_STORY.replace("2019-05-02", "2019-02-30"))

    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 of 3 files were not imported."):
        import_article(good, bad, SEED_STORY, stderr=stderr)

    assert set(Article.objects.values_list("headline", flat=True)) == {
        "Lavrov visits Pyongyang",
        HEADLINE,
    }
    assert "bad.txt: not imported: Date: '2019-02-30' is not a date" in stderr.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "", "The file is empty."),
        ("latin1.txt", "Title: Caf\xe9\n\nParagraph.\n".encode("latin-1"), "can't decode"),
        (
            "long.txt",
            HEADER_STORY.replace("Pyongyang\n", "Pyongyang" + " x" * 200 + "\n", 1),
            "headline",
        ),
        ("huge.txt", HEADER_STORY + "\n" + "word " * 250_000, "the limit is 1,000,000"),
    ],
)
def test_import_article_bad_file_leaves_no_rows_behind(tmp_path, putin, name, content, message):
    path = write_story(tmp_path, name, content)
    before = row_counts()
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 files were not imported."):
        import_article(path, SEED_STORY, stderr=stderr)

    assert message in stderr.getvalue()
    assert Article.objects.get().headline == HEADLINE
    assert Figure.objects.count() == 3
    assert Mention.objects.exclude(article__headline=HEADLINE).count() == 0
    assert Actor.objects.count() == before["Actor"]


def test_import_article_missing_file_is_reported(tmp_path):
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 of 1 files were not imported."):
        import_article(tmp_path / "nowhere.txt", stderr=stderr)

    assert "nowhere.txt: not imported:" in stderr.getvalue()


def test_import_article_url_with_several_files_is_command_error(tmp_path):
    path = write_story(tmp_path, "lavrov.txt", HEADER_STORY)

    with pytest.raises(CommandError, match="--url names one story"):
        import_article(path, SEED_STORY, "--url", "https://example.com/a")

    assert not Article.objects.exists()


# load_demo


def test_load_demo_twice_gives_same_row_counts():
    load_demo()
    first = row_counts()

    load_demo()

    assert row_counts() == first
    assert all(first.values())


def test_load_demo_twice_keeps_the_same_links(client):
    load_demo()
    first = story_body(client, Article.objects.get())

    load_demo()

    assert story_body(client, Article.objects.get()) == first


def test_load_demo_published_story_links_at_least_15_entries(client):
    load_demo()

    body = story_body(client, Article.objects.get())

    entries = set(re.findall(r'<a [^>]*href="(/(?:actors|background)/[^"?]+/)[^"]*"', body))
    assert len(entries) >= 15
    assert {"/actors/kim-jong-un/", "/actors/vladimir-putin/"} <= entries


def test_load_demo_again_keeps_an_editors_alias_for_another_entry():
    load_demo()
    make_actor(name="Khasan station", slug="khasan-station", aliases=("Khasan",))

    load_demo()

    owners = Alias.objects.filter(text="Khasan").values_list("actor__slug", flat=True)
    assert sorted(owners) == ["khasan", "khasan-station"]


# import_article: progress and summary

KCNA_STORY = """\
Title: Putin to host Kim in Vladivostok
Source: Yonhap
Date: 2019-04-20

Pyongyang's state media, KCNA, said Vladimir Putin will host Kim at the Far Eastern Federal \
University on Thursday.

However, the Kremlin gave no date.
"""


def run_import_article(*paths) -> tuple[str, str, CommandError | None]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_article", *map(str, paths), stdout=stdout, stderr=stderr)
    except CommandError as error:
        return stdout.getvalue(), stderr.getvalue(), error
    return stdout.getvalue(), stderr.getvalue(), None


def test_import_article_summary_lists_headline_mentions_and_suggestions(tmp_path, putin):
    make_actor(name="Sergei Lavrov", slug="sergei-lavrov", aliases=("Lavrov",))
    lavrov = write_story(tmp_path, "lavrov.txt", HEADER_STORY)
    kcna = write_story(tmp_path, "kcna.txt", KCNA_STORY)
    bad = write_story(tmp_path, "bad.txt", "")

    stdout, _, error = run_import_article(lavrov, kcna, bad)

    assert str(error) == "1 of 3 files were not imported."
    assert summary_rows(stdout) == [
        [str(lavrov), "Lavrov visits Pyongyang", "created", "2 (1)", "1"],
        [str(kcna), "Putin to host Kim in Vladivostok", "created", "1 (1)", "2"],
        [str(bad), "—", "failed", "—", "—"],
    ]
    assert stdout.split("\n\n", 1)[1].splitlines() == [
        "Names no alias covers yet (add them as entries or aliases):",
        f"  {lavrov}: Choe Son-hui",
        f"  {kcna}: KCNA, Far Eastern Federal University",
    ]
    assert Article.objects.count() == 2


def test_import_article_summary_shows_five_suggestions_and_counts_the_rest(tmp_path):
    names = ["Ri Yong-ho", "Choe Son-hui", "Kim Yo-jong", "Moon Jae-in", "Shinzo Abe", "Xi Jinping"]
    text = HEADER_STORY + "\n" + " and ".join(names) + " met in KCNA's hall.\n"
    path = write_story(tmp_path, "many.txt", text)

    stdout = import_article(path)

    assert summary_rows(stdout)[0][4] == "7"
    assert stdout.splitlines()[-1] == (
        f"  {path}: Sergei Lavrov, Choe Son-hui, Ri Yong-ho, Kim Yo-jong, Moon Jae-in and 2 more"
    )


def test_import_article_suggestions_leave_out_adjectives_of_known_names(tmp_path):
    make_actor(name="North Korea", slug="north-korea")
    text = HEADER_STORY + "\nThe North Korean side met South Korean officials.\n"
    path = write_story(tmp_path, "korea.txt", text)

    stdout = import_article(path)

    assert "South Korean" in stdout
    assert "North Korean" not in stdout


def test_import_article_several_files_report_progress_on_stderr(tmp_path):
    first = write_story(tmp_path, "lavrov.txt", HEADER_STORY)
    second = write_story(tmp_path, "kcna.txt", KCNA_STORY)

    _, stderr, error = run_import_article(first, second)

    assert error is None
    assert stderr.splitlines() == [f"[1/2] {first}", f"[2/2] {second}"]


def test_import_article_one_file_prints_no_progress_line(tmp_path):
    path = write_story(tmp_path, "lavrov.txt", HEADER_STORY)

    _, stderr, error = run_import_article(path)

    assert error is None
    assert stderr == ""


# suggest_names


def test_suggest_names_finds_names_and_acronyms_in_order():
    text = (
        "Russian Foreign Minister Sergei Lavrov told KCNA that the Far Eastern Federal "
        "University would host the talks."
    )

    assert suggest_names(text, []) == ["Sergei Lavrov", "KCNA", "Far Eastern Federal University"]


def test_suggest_names_ignores_common_words_and_sentence_initial_words():
    text = "However, the talks ended. The delegates left on Thursday, April 25. Officials agreed."

    assert suggest_names(text, []) == []


def test_suggest_names_drops_common_words_from_a_name():
    text = "However Sergei Lavrov spoke. The Korea Times and the Workers' Party of Korea did not."

    assert suggest_names(text, []) == ["Sergei Lavrov", "Korea Times", "Workers' Party of Korea"]


def test_suggest_names_skips_a_lone_word_opening_a_sentence_even_in_capitals():
    text = "SEOUL, May 2 -- North Korea's KCNA said. KCNA also said."

    assert suggest_names(text, []) == ["North Korea", "KCNA"]


def test_suggest_names_skips_names_a_mention_covers():
    text = "Kim Jong-un met Sergei Lavrov and Choe Son-hui of the DPRK."
    kim = (0, len("Kim Jong-un"))
    lavrov = (text.index("Lavrov"), text.index("Lavrov") + len("Lavrov"))
    dprk = (text.index("DPRK"), text.index("DPRK") + 4)

    assert suggest_names(text, [kim, lavrov, dprk]) == ["Choe Son-hui"]
    assert suggest_names(text, []) == ["Kim Jong-un", "Sergei Lavrov", "Choe Son-hui", "DPRK"]


def test_suggest_names_keeps_names_of_two_to_five_words():
    text = (
        "They met at the Korean Central Broadcasting Committee Radio Station and in the "
        "Democratic People's Republic of Korea, said Putin."
    )

    assert suggest_names(text, []) == ["Democratic People's Republic of Korea"]
