"""Models and their invariants: constraints, derived fields and relinking."""

import pytest
from django.db import IntegrityError, transaction

from explainer.models import Alias, Article, BackgroundNote, Mention, format_partial_date

from .factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db


def linked_targets(article: Article) -> list[str]:
    article.refresh_from_db()
    return [
        mention.entry.slug
        for mention in article.mentions.filter(is_linked=True).select_related("actor", "note")
    ]


def test_mention_must_point_at_exactly_one_entry():
    article = make_article()
    actor, note = make_actor(), make_note()

    for fields in ({}, {"actor": actor, "note": note}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Mention.objects.create(article=article, quote="x", start=0, **fields)


def test_alias_must_belong_to_exactly_one_entry():
    with pytest.raises(IntegrityError), transaction.atomic():
        Alias.objects.create(text="Nobody")


def test_published_article_needs_a_date_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_article(status=Article.Status.PUBLISHED, published_at=None)


def test_note_cannot_end_before_it_starts_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_note(starts_on="2019-02", ends_on="2018-12")


def test_alias_normal_form_is_unique_per_entry_in_the_database():
    actor = make_actor(name="Kim Jong-un")
    Alias.objects.create(actor=make_actor(name="Kim Yo-jong"), text="Kim", is_short_form=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Alias.objects.create(actor=actor, text="kim jong un")


def test_alias_shared_by_two_entries_is_valid():
    make_actor(name="Kim Jong-un", aliases=("Kim",))
    alias = Alias(actor=make_actor(name="Kim Yo-jong"), text="Kim", is_short_form=True)

    alias.full_clean()


def test_article_slug_is_unique_and_unicode_safe():
    first = make_article(headline="김정은, 푸틴 만나")
    second = make_article(headline="김정은, 푸틴 만나")
    symbols = make_article(headline="!!! ???")

    assert first.slug == "김정은-푸틴-만나"
    assert second.slug == "김정은-푸틴-만나-2"
    assert symbols.slug == "story"


def test_article_body_is_sanitized_on_save():
    article = make_article(body='<p onclick="x()">Hi<script>alert(1)</script></p>')

    assert "onclick" not in article.body_html
    assert "script" not in article.body_html
    assert "Hi" in article.body_html


def test_entry_summary_is_sanitized_on_save():
    actor = make_actor(summary='<p>Leader <img src=x onerror="alert(1)"><b>of</b> Russia</p>')

    assert actor.summary_html == "<p>Leader <b>of</b> Russia</p>"


@pytest.mark.parametrize(
    "value,expected",
    [("2003", "2003"), ("2003-08", "August 2003"), ("2003-08-27", "27 August 2003"), ("", "")],
)
def test_partial_dates_format_at_their_precision(value, expected):
    assert format_partial_date(value) == expected


def test_note_date_range_reads_naturally():
    note = make_note(starts_on="2003-08", ends_on="2009-04")

    assert note.date_range == "August 2003 – April 2009"


def test_new_alias_lights_up_an_existing_story():
    article = make_article(body="<p>Sergei Lavrov handed over the invitation.</p>")
    lavrov = make_actor(name="Sergey Lavrov", slug="sergey-lavrov")
    assert linked_targets(article) == []

    Alias.objects.create(actor=lavrov, text="Sergei Lavrov")

    assert linked_targets(article) == ["sergey-lavrov"]
    assert 'href="/actors/sergey-lavrov/?as_of=2019-04-25"' in article.linked_body_html


def test_deleting_an_entry_unlinks_it_and_keeps_the_story_text():
    actor = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    article = make_article(body="<p>Foreign Minister Ri Yong-ho joined the talks.</p>")
    assert linked_targets(article) == ["ri-yong-ho"]

    actor.delete()

    article.refresh_from_db()
    assert linked_targets(article) == []
    assert "Foreign Minister Ri Yong-ho joined the talks." in article.linked_body_html


def test_renaming_an_entry_slug_updates_story_links():
    actor = make_actor(name="Choe Son-hui", slug="choe")
    article = make_article(body="<p>Choe Son-hui was there.</p>")

    actor.slug = "choe-son-hui"
    actor.save()

    article.refresh_from_db()
    assert 'href="/actors/choe-son-hui/?as_of=2019-04-25"' in article.linked_body_html


def test_first_mention_mode_links_each_entry_once_every_mention_mode_links_all():
    make_actor(name="Vladimir Putin", aliases=("Putin",))
    body = "<p>Vladimir Putin spoke. Putin said more. Putin left.</p>"

    first_only = make_article(body=body)
    every = make_article(body=body, link_every_mention=True)

    assert first_only.linked_body_html.count("<a ") == 1
    assert every.linked_body_html.count("<a ") == 3


def test_suppressed_mention_survives_a_copy_edit_and_the_next_occurrence_links():
    make_actor(name="Vladimir Putin", slug="putin", aliases=("Putin",))
    article = make_article(body="<p>Putin spoke first.</p><p>Later Putin left.</p>")
    first = article.mentions.get(is_linked=True)
    first.is_suppressed = True
    first.save()
    article.save()
    article.refresh_from_db()  # relinked by its task, on the row

    article.body = "<p>On Thursday, Putin spoke first.</p><p>Later Putin left.</p>"
    article.save()
    article.refresh_from_db()  # relinked by its task, on the row

    mentions = list(article.mentions.order_by("start"))
    assert [(m.quote, m.is_suppressed, m.is_linked) for m in mentions] == [
        ("Putin", True, False),
        ("Putin", False, True),
    ]
    assert article.linked_body_html.startswith("<p>On Thursday, Putin spoke first.</p>")


def test_editor_mention_is_linked_and_reanchored_after_edits():
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    article = make_article(body="<p>The supreme leader arrived by train.</p>")
    Mention.objects.create(article=article, actor=actor, quote="supreme leader")
    article.save()
    article.refresh_from_db()  # relinked by its task, on the row
    assert (
        'href="/actors/kim-jong-un/?as_of=2019-04-25" data-entry="kim-jong-un" '
        'aria-describedby="mention-desc-kim-jong-un">supreme leader</a>'
    ) in article.linked_body_html

    article.body = "<p>On Wednesday the supreme leader arrived by train.</p>"
    article.save()
    article.refresh_from_db()  # relinked by its task, on the row

    mention = article.mentions.get(origin=Mention.Origin.EDITOR)
    assert mention.start == len("On Wednesday the ")
    assert mention.is_linked and not mention.is_orphaned


def test_editor_mention_whose_words_were_deleted_is_kept_as_orphaned():
    actor = make_actor(name="Kim Jong-un")
    article = make_article(body="<p>The supreme leader arrived.</p>")
    Mention.objects.create(article=article, actor=actor, quote="supreme leader")
    article.save()

    article.body = "<p>He arrived.</p>"
    article.save()

    mention = article.mentions.get(origin=Mention.Origin.EDITOR)
    assert mention.is_orphaned and not mention.is_linked


def test_background_note_mentions_link_to_note_pages():
    make_note(title="Six-party talks", slug="six-party-talks", kind=BackgroundNote.Kind.PROCESS)

    article = make_article(body="<p>Resuming the Six Party Talks was discussed.</p>")

    assert (
        '<a class="mention mention--process" href="/background/six-party-talks/?as_of=2019-04-25" '
        'data-entry="six-party-talks" aria-describedby="mention-desc-six-party-talks">'
        "Six Party Talks</a>" in article.linked_body_html
    )
