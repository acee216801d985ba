"""The newsroom admin, proved from the outside: real admin forms posted with the admin client,
and the reader pages that result."""

import html
import re
import warnings
from html.parser import HTMLParser

import pytest
from django.utils.deprecation import RemovedInDjango60Warning

from explainer.models import Actor, Alias, Article, BackgroundNote, Mention
from tests.factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db

MODELS = ["article", "actor", "backgroundnote", "alias", "mention", "source", "figure"]
ACTOR_ADD = "/admin/explainer/actor/add/"
NOTE_ADD = "/admin/explainer/backgroundnote/add/"
ALIAS_ADD = "/admin/explainer/alias/add/"
ARTICLE_ADD = "/admin/explainer/article/add/"
KOREAN_HEADLINE = "김정은 위원장, 푸틴과 회담"


class _AdminFormReader(HTMLParser):
    """The fields a browser would submit from the admin's change form, as rendered."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, str] = {}
        self._inside = False
        self._select = ""
        self._textarea = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._inside = True
        name = attrs.get("name") or ""
        if tag == "option" and self._inside and self._select:
            if self._select not in self.data or "selected" in attrs:
                self.data[self._select] = attrs.get("value", "")
            return
        if not self._inside or not name or "__prefix__" in name:
            return
        kind = attrs.get("type", "text")
        if tag == "input" and kind in {"checkbox", "radio"}:
            if "checked" in attrs:
                self.data[name] = attrs.get("value") or "on"
        elif tag == "input" and kind not in {"submit", "button", "file", "reset"}:
            self.data[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = ""
        elif tag == "textarea":
            # Browsers drop the newline Django puts after <textarea>.
            name, self._textarea = self._textarea, ""
            if name and self.data[name].startswith("\n"):
                self.data[name] = self.data[name][1:]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def admin_form(client, url) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    reader = _AdminFormReader()
    reader.feed(response.content.decode())
    return reader.data


def form_errors(response) -> str:
    """Every error message on an admin form page (the form's and its inlines'), joined."""
    assert response.status_code == 200, "expected the form to be shown again with errors"
    messages = [m for errors in response.context["adminform"].form.errors.values() for m in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += inline.formset.non_form_errors()
        for errors in inline.formset.errors:
            messages += [m for field_errors in errors.values() for m in field_errors]
    return " ".join(messages)


def story_body(client, article) -> str:
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    found = re.search(r'<div class="story-body"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    return found[1]


def reader_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def linked_phrases(fragment: str, href: str) -> list[str]:
    pattern = rf'<a [^>]*href="{re.escape(href)}(?:\?as_of=[0-9-]+)?"[^>]*>(.*?)</a>'
    return [html.unescape(text) for text in re.findall(pattern, fragment, re.S)]


def actor_form(client, **fields) -> dict[str, str]:
    data = admin_form(client, ACTOR_ADD)
    data.update(kind="person", description="Someone in the news")
    data.update(fields)
    return data


def note_form(client, **fields) -> dict[str, str]:
    data = admin_form(client, NOTE_ADD)
    data.update(title="Six-party talks", slug="six-party-talks", description="Talks")
    data.update(fields)
    return data


def article_form(client, **fields) -> dict[str, str]:
    data = admin_form(client, ARTICLE_ADD)
    data.update(
        headline="Lavrov visits Pyongyang",
        body="<p>Sergei Lavrov arrived.</p>",
        status="published",
        published_at_0="2019-04-25",
        published_at_1="12:00:00",
    )
    data.update(fields)
    return data


def change_url(obj) -> str:
    return f"/admin/explainer/{obj._meta.model_name}/{obj.pk}/change/"


def mention_row(data: dict[str, str], quote: str) -> str:
    """The inline prefix ("mentions-3") of the row that shows this quote."""
    return next(
        key.removesuffix("-quote")
        for key, value in data.items()
        if re.fullmatch(r"mentions-\d+-quote", key) and value == quote
    )


def blank_mention_row(data: dict[str, str]) -> str:
    """The inline prefix of the empty row the admin offers for a new mention."""
    return f"mentions-{int(data['mentions-TOTAL_FORMS']) - 1}"


def post_suppression(client, article, quote, *, suppressed=True, **fields):
    data = admin_form(client, change_url(article))
    row = mention_row(data, quote)
    if suppressed:
        data[f"{row}-is_suppressed"] = "on"
    else:
        data.pop(f"{row}-is_suppressed", None)
    data.update(fields)
    return client.post(change_url(article), data)


@pytest.fixture
def lavrov_story():
    """A published story naming one actor three times, before any admin edit."""
    make_actor(name="Sergei Lavrov", slug="sergei-lavrov", aliases=("Lavrov",))
    return make_article(
        body="<p>Sergei Lavrov arrived in Pyongyang. Lavrov met officials. Later Lavrov left.</p>"
    )


# Every page


@pytest.mark.parametrize("page", ["", "add/"])
@pytest.mark.parametrize("model", MODELS)
def test_admin_page_with_demo_loaded_returns_200(admin_client, demo, model, page):
    response = admin_client.get(f"/admin/explainer/{model}/{page}")

    assert response.status_code == 200


def test_actor_changelist_with_demo_shows_story_counts(admin_client, demo):
    response = admin_client.get("/admin/explainer/actor/")

    kim = next(row for row in response.context["cl"].result_list if row.slug == "kim-jong-un")
    assert kim.num_stories == 1
    assert kim.num_aliases == 8


def test_article_change_page_with_demo_lists_linked_mentions(admin_client, demo):
    data = admin_form(admin_client, change_url(demo))

    quotes = {value for key, value in data.items() if key.endswith("-quote") and value}
    assert {"Kim Jong-un", "Vladimir Putin", "six-party talks"} <= quotes


@pytest.mark.parametrize("actor_count", [3, 30])
def test_actor_changelist_query_count_does_not_grow_with_actors(
    admin_client, django_assert_max_num_queries, actor_count
):
    names = [f"Envoy Number{number} Petrov" for number in range(actor_count)]
    for name in names:
        make_actor(name=name, aliases=(name.removeprefix("Envoy "),))
    make_article(body="<p>" + ", ".join(names) + " met.</p>")

    with django_assert_max_num_queries(7):
        response = admin_client.get("/admin/explainer/actor/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == actor_count


@pytest.mark.parametrize("actor_count", [3, 30])
def test_alias_changelist_query_count_does_not_grow_with_aliases(
    admin_client, django_assert_max_num_queries, actor_count
):
    for number in range(actor_count):
        make_actor(name=f"Envoy Number{number} Petrov", aliases=(f"Number{number} Petrov",))

    with django_assert_max_num_queries(7):
        response = admin_client.get("/admin/explainer/alias/")

    assert response.status_code == 200


@pytest.mark.parametrize("model", ["article", "actor", "backgroundnote", "source"])
def test_admin_add_page_with_url_field_renders_without_deprecation_warning(admin_client, model):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInDjango60Warning)
        response = admin_client.get(f"/admin/explainer/{model}/add/")

    assert response.status_code == 200


# Adding actors lights up stories


def test_actor_added_with_alias_links_published_story_at_once(admin_client, client):
    article = make_article(body="<p>Foreign Minister Lavrov said the talks were useful.</p>")
    data = actor_form(
        admin_client, name="Sergei Lavrov", slug="sergei-lavrov", **{"aliases-0-text": "Lavrov"}
    )

    response = admin_client.post(ACTOR_ADD, data)

    assert response.status_code == 302
    assert linked_phrases(story_body(client, article), "/actors/sergei-lavrov/") == ["Lavrov"]


def test_actor_added_without_aliases_links_its_name_in_story(admin_client, client):
    article = make_article(body="<p>Talks with Ivana Petrovska-Kolb went on all day.</p>")
    data = actor_form(admin_client, name="Ivana Petrovska-Kolb", slug="ivana-petrovska-kolb")

    admin_client.post(ACTOR_ADD, data)

    body = story_body(client, article)
    assert linked_phrases(body, "/actors/ivana-petrovska-kolb/") == ["Ivana Petrovska-Kolb"]


def test_actor_added_with_alias_links_demo_story_at_once(admin_client, client, demo):
    data = actor_form(
        admin_client, name="Viet Nam", slug="vietnam", **{"aliases-0-text": "Vietnam"}
    )

    admin_client.post(ACTOR_ADD, data)

    assert linked_phrases(story_body(client, demo), "/actors/vietnam/") == ["Vietnam"]


def test_alias_deleted_in_actor_inline_stops_linking_story(admin_client, client):
    actor = make_actor(name="Sergei Lavrov", slug="sergei-lavrov", aliases=("Lavrov",))
    article = make_article(body="<p>Foreign Minister Lavrov said the talks were useful.</p>")
    data = admin_form(admin_client, change_url(actor))
    row = next(key for key, value in data.items() if key.endswith("-text") and value == "Lavrov")
    data[row.replace("-text", "-DELETE")] = "on"

    response = admin_client.post(change_url(actor), data)

    assert response.status_code == 302
    body = story_body(client, article)
    assert "/actors/sergei-lavrov/" not in body
    assert reader_text(body) == "Foreign Minister Lavrov said the talks were useful."


# One phrase, one entry


@pytest.mark.parametrize("variant", ["Kim", "KIM", "kim"])
def test_actor_inline_alias_shared_with_another_entry_is_saved(admin_client, variant):
    # "Kim" is many people's: the linker resolves a shared phrase in each story's context.
    make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("Kim",))
    data = actor_form(
        admin_client,
        name="Kim Yo-jong",
        slug="kim-yo-jong",
        **{"aliases-0-text": variant, "aliases-0-is_short_form": "on"},
    )

    response = admin_client.post(ACTOR_ADD, data)

    assert response.status_code == 302
    owners = Alias.objects.filter(normalized="kim").values_list("actor__slug", flat=True)
    assert sorted(owners) == ["kim-jong-un", "kim-yo-jong"]


def test_alias_admin_alias_shared_with_a_note_is_saved(admin_client):
    make_note(title="Hanoi summit", slug="hanoi-summit")
    actor = make_actor(name="Hanoi", slug="hanoi")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": "hanoi summit", "actor": str(actor.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    assert response.status_code == 302
    assert Alias.objects.filter(normalized="hanoi summit").count() == 2


def test_alias_admin_same_phrase_twice_on_one_entry_is_form_error(admin_client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": "KIM JONG UN", "actor": str(actor.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    assert "“Kim Jong-un” is already an alias of this entry." in form_errors(response)
    assert Alias.objects.count() == 1


def test_actor_named_like_another_entry_is_saved(admin_client):
    # Two people may share a name (Ri Yong-ho the diplomat, Ri Yong-ho the general).
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    data = actor_form(admin_client, name="Ri Yong Ho", slug="ri-yong-ho-general")

    response = admin_client.post(ACTOR_ADD, data)

    assert response.status_code == 302
    assert Alias.objects.filter(normalized="ri yong ho").count() == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("the North", "made of common words"),
        ("North", "made of common words"),
        ("The", "made of common words"),
        ("金", "one character"),
    ],
)
def test_alias_admin_common_word_or_one_character_full_form_suggests_short_form(
    admin_client, text, message
):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": text, "actor": str(actor.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    errors = form_errors(response)
    assert message in errors
    assert "Tick “short form”" in errors
    assert Alias.objects.count() == 1


@pytest.mark.parametrize("text", ["the North", "金"])
def test_alias_admin_common_word_or_one_character_short_form_is_saved(admin_client, text):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    data = admin_form(admin_client, ALIAS_ADD) | {
        "text": text,
        "actor": str(actor.pk),
        "is_short_form": "on",
    }

    response = admin_client.post(ALIAS_ADD, data)

    assert response.status_code == 302
    assert Alias.objects.get(text=text).is_short_form


def test_actor_inline_repeated_alias_is_form_error(admin_client):
    data = actor_form(
        admin_client,
        name="Sergei Lavrov",
        slug="sergei-lavrov",
        **{"aliases-TOTAL_FORMS": "2", "aliases-0-text": "Lavrov", "aliases-1-text": "LAVROV"},
    )

    response = admin_client.post(ACTOR_ADD, data)

    assert "“LAVROV” repeats “Lavrov” above." in form_errors(response)
    assert not Actor.objects.exists()
    assert not Alias.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "This field is required."), ("   ", "This field is required."), ("K", "one character")],
)
def test_actor_inline_blank_or_one_character_alias_is_form_error(admin_client, text, message):
    data = actor_form(
        admin_client,
        name="Sergei Lavrov",
        slug="sergei-lavrov",
        **{"aliases-0-text": text, "aliases-0-case_sensitive": "on"},
    )

    response = admin_client.post(ACTOR_ADD, data)

    assert message in form_errors(response)
    assert not Actor.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "This field is required."), ("   ", "This field is required."), ("K", "one character")],
)
def test_alias_admin_blank_or_one_character_alias_is_form_error(admin_client, text, message):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": text, "actor": str(actor.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    assert message in form_errors(response)
    assert Alias.objects.count() == 1


@pytest.mark.parametrize(
    "entry",
    [
        "neither",
        "both",
    ],
)
def test_alias_admin_without_exactly_one_entry_is_form_error(admin_client, entry):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    note = make_note(title="Hanoi summit", slug="hanoi-summit")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": "Chairman Kim"}
    if entry == "both":
        data |= {"actor": str(actor.pk), "note": str(note.pk)}

    response = admin_client.post(ALIAS_ADD, data)

    assert "either an actor or a background note" in form_errors(response)
    assert Alias.objects.count() == 2


# Identifiers and dates


@pytest.mark.parametrize("wikidata_id", ["56226", "q56226", "Q", "Q056226"])
def test_actor_malformed_wikidata_id_is_form_error(admin_client, wikidata_id):
    data = actor_form(admin_client, name="Kim Jong-un", slug="kim-jong-un", wikidata_id=wikidata_id)

    response = admin_client.post(ACTOR_ADD, data)

    assert "capital Q followed by digits" in form_errors(response)
    assert not Actor.objects.exists()


def test_actor_wellformed_wikidata_id_is_saved(admin_client):
    data = actor_form(admin_client, name="Kim Jong-un", slug="kim-jong-un", wikidata_id="Q56226")

    response = admin_client.post(ACTOR_ADD, data)

    assert response.status_code == 302
    assert Actor.objects.get().wikidata_url == "https://www.wikidata.org/wiki/Q56226"


def test_actor_slug_of_another_actor_is_form_error(admin_client):
    make_actor(name="Kim Jong-un", slug="kim")
    data = actor_form(admin_client, name="Kim Jong-il", slug="kim")

    response = admin_client.post(ACTOR_ADD, data)

    assert "“Kim Jong-un” already uses the address kim." in reader_text(form_errors(response))
    assert Actor.objects.count() == 1


def test_actor_slug_of_a_note_is_form_error(admin_client):
    make_note(title="Hanoi summit", slug="hanoi")
    data = actor_form(admin_client, name="Hanoi", slug="hanoi")

    response = admin_client.post(ACTOR_ADD, data)

    assert "“Hanoi summit” already uses the address hanoi." in reader_text(form_errors(response))
    assert not Actor.objects.exists()


def test_note_slug_of_an_actor_is_form_error(admin_client):
    make_actor(name="Hanoi", slug="hanoi")
    data = note_form(admin_client, title="Hanoi summit", slug="hanoi")

    response = admin_client.post(NOTE_ADD, data)

    assert "“Hanoi” already uses the address hanoi." in reader_text(form_errors(response))
    assert not BackgroundNote.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "message"),
    [
        ("2009-04", "2003-08", "The end cannot come before the start."),
        ("2019-13", "", "Enter a year (2003)"),
        ("2019-02-30", "", "2019-02-30 is not a date in the calendar."),
        ("2003", "2009-02-29", "2009-02-29 is not a date in the calendar."),
        ("03-08", "", "Enter a year (2003)"),
    ],
)
def test_note_bad_dates_are_form_error(admin_client, starts_on, ends_on, message):
    data = note_form(admin_client, starts_on=starts_on, ends_on=ends_on)

    response = admin_client.post(NOTE_ADD, data)

    assert message in form_errors(response)
    assert not BackgroundNote.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "shown"),
    [
        ("2003", "", "2003"),
        ("2003-08", "2009-04", "August 2003 – April 2009"),
        ("2003-08-27", "2003-08-29", "27 August 2003 – 29 August 2003"),
    ],
)
def test_note_partial_dates_are_saved_and_shown(admin_client, client, starts_on, ends_on, shown):
    data = note_form(admin_client, starts_on=starts_on, ends_on=ends_on)

    admin_client.post(NOTE_ADD, data)

    response = client.get("/background/six-party-talks/")
    assert response.status_code == 200
    assert shown in response.content.decode()


def test_note_year_zero_is_form_error_or_page_works(admin_client, client):
    data = note_form(admin_client, starts_on="0000-05")

    admin_client.post(NOTE_ADD, data)

    # 404: the form refused it; 200: the page shows it. Either is fine; a crash is not.
    assert client.get("/background/six-party-talks/").status_code in {200, 404}


def test_note_end_year_containing_start_month_is_saved(admin_client):
    data = note_form(admin_client, starts_on="2003-08", ends_on="2003")

    response = admin_client.post(NOTE_ADD, data)

    assert response.status_code == 302


# Articles


def test_article_korean_headline_with_blank_slug_gets_working_page(admin_client, client):
    data = article_form(admin_client, headline=KOREAN_HEADLINE, slug="")

    response = admin_client.post(ARTICLE_ADD, data)

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.slug
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert KOREAN_HEADLINE in page.content.decode()


def test_article_same_headline_twice_gets_different_slugs(admin_client, client):
    data = article_form(admin_client, headline=KOREAN_HEADLINE, slug="")

    admin_client.post(ARTICLE_ADD, data)
    admin_client.post(ARTICLE_ADD, data)

    first, second = Article.objects.order_by("pk")
    assert first.slug != second.slug
    assert client.get(first.get_absolute_url()).status_code == 200
    assert client.get(second.get_absolute_url()).status_code == 200


def test_article_punctuation_only_headline_gets_fallback_slug(admin_client, client):
    data = article_form(admin_client, headline="?!", slug="")

    admin_client.post(ARTICLE_ADD, data)

    article = Article.objects.get()
    assert article.slug == "story"
    assert client.get(article.get_absolute_url()).status_code == 200


def test_article_two_megabyte_body_is_refused_with_message(admin_client):
    data = article_form(admin_client, body="<p>" + "word " * 400_000 + "</p>")

    response = admin_client.post(ARTICLE_ADD, data)

    assert "the limit is 1,000,000" in form_errors(response)
    assert not Article.objects.exists()


def test_article_body_near_limit_is_saved_completely(admin_client):
    body = "\n".join(["<p>" + "word " * 190 + "</p>"] * 1_000)
    data = article_form(admin_client, body=body)

    response = admin_client.post(ARTICLE_ADD, data)

    assert response.status_code == 302
    assert Article.objects.get().body == body


def test_article_malformed_html_body_is_saved_sanitized(admin_client, client):
    data = article_form(admin_client, body="<p>unclosed <b>bold <script>alert(1)</script>")

    response = admin_client.post(ARTICLE_ADD, data)

    assert response.status_code == 302
    body = story_body(client, Article.objects.get())
    assert "<script" not in body
    assert "alert(1)" not in body
    assert reader_text(body) == "unclosed bold"


def test_article_published_without_date_is_form_error(admin_client):
    data = article_form(admin_client, published_at_0="", published_at_1="")

    response = admin_client.post(ARTICLE_ADD, data)

    assert "A published story needs a publication date." in form_errors(response)
    assert not Article.objects.exists()


# Suppressing, placing and removing mentions


def test_mention_suppressed_in_inline_moves_link_to_next_occurrence(
    admin_client, client, lavrov_story
):
    response = post_suppression(admin_client, lavrov_story, "Sergei Lavrov")

    assert response.status_code == 302
    body = story_body(client, lavrov_story)
    assert linked_phrases(body, "/actors/sergei-lavrov/") == ["Lavrov"]
    assert '">Lavrov</a> met officials' in body
    assert reader_text(body).startswith("Sergei Lavrov arrived in Pyongyang.")


def test_mention_suppression_survives_copy_edit_elsewhere(admin_client, client, lavrov_story):
    post_suppression(admin_client, lavrov_story, "Sergei Lavrov")
    data = admin_form(admin_client, change_url(lavrov_story))
    data["body"] = data["body"].replace("Later", "Hours later,").replace("<p>", "<p>Yesterday ")

    admin_client.post(change_url(lavrov_story), data)

    body = story_body(client, lavrov_story)
    assert reader_text(body).startswith("Yesterday Sergei Lavrov arrived")
    assert linked_phrases(body, "/actors/sergei-lavrov/") == ["Lavrov"]
    assert '">Lavrov</a> met officials' in body


def test_mention_suppressed_with_copy_edit_in_same_save_stays_suppressed(
    admin_client, client, lavrov_story
):
    data = admin_form(admin_client, change_url(lavrov_story))
    edited = data["body"].replace("<p>", "<p>Yesterday ")

    post_suppression(admin_client, lavrov_story, "Sergei Lavrov", body=edited)

    body = story_body(client, lavrov_story)
    assert reader_text(body).startswith("Yesterday Sergei Lavrov arrived")
    assert linked_phrases(body, "/actors/sergei-lavrov/") == ["Lavrov"]


def test_mention_suppression_survives_new_alias_in_library(admin_client, client, lavrov_story):
    post_suppression(admin_client, lavrov_story, "Sergei Lavrov")
    north_korea = make_actor(name="North Korea", slug="north-korea")
    data = admin_form(admin_client, ALIAS_ADD) | {"text": "Pyongyang", "actor": str(north_korea.pk)}

    admin_client.post(ALIAS_ADD, data)

    body = story_body(client, lavrov_story)
    assert linked_phrases(body, "/actors/north-korea/") == ["Pyongyang"]
    assert linked_phrases(body, "/actors/sergei-lavrov/") == ["Lavrov"]


def test_mention_unsuppressed_in_inline_is_linked_again(admin_client, client, lavrov_story):
    post_suppression(admin_client, lavrov_story, "Sergei Lavrov")

    post_suppression(admin_client, lavrov_story, "Sergei Lavrov", suppressed=False)

    body = story_body(client, lavrov_story)
    assert linked_phrases(body, "/actors/sergei-lavrov/") == ["Sergei Lavrov"]


def test_mention_placed_by_editor_for_unknown_phrase_is_linked(admin_client, client):
    actor = make_actor(name="Russian government", slug="russian-government")
    article = make_article(body="<p>The Kremlin said the visit was useful.</p>")
    data = admin_form(admin_client, change_url(article))
    row = blank_mention_row(data)
    data |= {f"{row}-quote": "Kremlin", f"{row}-actor": str(actor.pk)}

    response = admin_client.post(change_url(article), data)

    assert response.status_code == 302
    body = story_body(client, article)
    assert linked_phrases(body, "/actors/russian-government/") == ["Kremlin"]
    assert reader_text(body) == "The Kremlin said the visit was useful."


def test_mention_placed_by_editor_with_quote_not_in_text_is_form_error(admin_client):
    actor = make_actor(name="Russian government", slug="russian-government")
    article = make_article(body="<p>The Kremlin said the visit was useful.</p>")
    data = admin_form(admin_client, change_url(article))
    row = blank_mention_row(data)
    data |= {f"{row}-quote": "Kremlin Palace", f"{row}-actor": str(actor.pk)}

    response = admin_client.post(change_url(article), data)

    assert "“Kremlin Palace” does not occur in the story" in form_errors(response)
    assert not Mention.objects.filter(quote="Kremlin Palace").exists()


def test_mention_placed_by_editor_across_tags_is_linked_or_refused(admin_client, client):
    actor = make_actor(name="Russian government", slug="russian-government")
    article = make_article(body="<p>The <b>Kremlin</b> Palace said the visit was useful.</p>")
    data = admin_form(admin_client, change_url(article))
    row = blank_mention_row(data)
    data |= {f"{row}-quote": "Kremlin Palace", f"{row}-actor": str(actor.pk)}

    response = admin_client.post(change_url(article), data)

    linked = linked_phrases(story_body(client, article), "/actors/russian-government/")
    assert response.status_code == 200 or linked == ["Kremlin Palace"]


def test_actor_deleted_in_admin_removes_links_but_keeps_story_text(admin_client, client, demo):
    kim = Actor.objects.get(slug="kim-jong-un")
    before = story_body(client, demo)

    response = admin_client.post(f"/admin/explainer/actor/{kim.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    after = story_body(client, demo)
    assert "/actors/kim-jong-un/" in before
    assert "/actors/kim-jong-un/" not in after
    assert reader_text(after) == reader_text(before)
    assert len(linked_phrases(after, "/actors/vladimir-putin/")) == 1


# Linking every mention


def test_demo_story_by_default_links_each_entry_once(client, demo):
    body = story_body(client, demo)

    assert linked_phrases(body, "/actors/kim-jong-un/") == ["Kim Jong-un"]


def test_link_every_mention_turned_on_links_every_occurrence(admin_client, client, demo):
    data = admin_form(admin_client, change_url(demo)) | {"link_every_mention": "on"}

    admin_client.post(change_url(demo), data)

    body = story_body(client, demo)
    kims = linked_phrases(body, "/actors/kim-jong-un/")
    assert len(kims) > 10
    assert set(kims) == {"Kim Jong-un", "Kim"}
    assert len(linked_phrases(body, "/actors/vladimir-putin/")) > 5


def test_link_every_mention_turned_off_again_links_exactly_one(admin_client, client, demo):
    admin_client.post(
        change_url(demo), admin_form(admin_client, change_url(demo)) | {"link_every_mention": "on"}
    )
    data = admin_form(admin_client, change_url(demo))
    del data["link_every_mention"]

    admin_client.post(change_url(demo), data)

    body = story_body(client, demo)
    assert linked_phrases(body, "/actors/kim-jong-un/") == ["Kim Jong-un"]
    assert len(linked_phrases(body, "/actors/vladimir-putin/")) == 1
