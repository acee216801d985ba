"""The pure "How we got here" builder, and the story page's timeline."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explainer.dates import first_day
from explainer.timeline import SHOWN_ITEMS, story_timeline

STORY_DAY = dt.date(2019, 4, 25)


def note(title, starts_on):
    return SimpleNamespace(title=title, starts_on=starts_on, get_absolute_url=lambda: f"/{title}/")


def update(text, happened_on, of):
    return SimpleNamespace(text=text, happened_on=happened_on, note=of)


def lines(timeline):
    return [
        (item.date, [link.text for link in item.links], item.is_story) for item in timeline.items
    ]


def test_timeline_orders_by_date_at_mixed_precision_and_ends_on_the_story():
    talks = note("Six-party talks", "2003-08")
    summit = note("Hanoi summit", "2019-02-27")
    statement = note("Joint statement", "2005-09-19")
    later = note("Later event", "2019-06")

    timeline = story_timeline(
        mentioned=[summit, talks, later],
        related=[statement],
        updates=[update("Talks collapse", "2009", talks)],
        until=STORY_DAY,
    )

    assert lines(timeline) == [
        ("2003-08", ["Six-party talks"], False),
        ("2005-09-19", ["Joint statement"], False),
        ("2009", ["Talks collapse"], False),
        ("2019-02-27", ["Hanoi summit"], False),
        ("2019-04-25", [], True),
    ]
    assert timeline.items[0].when == "August 2003"
    assert timeline.items[0].mentioned
    assert not timeline.items[1].mentioned


def test_timeline_skips_undated_notes_and_duplicates():
    topic = note("Denuclearization", "")
    talks = note("Six-party talks", "2003-08")

    timeline = story_timeline(
        mentioned=[topic, talks], related=[talks], updates=[], until=STORY_DAY
    )

    assert [item.text for item in timeline.items] == ["Six-party talks", ""]


def test_timeline_with_nothing_dated_is_empty():
    timeline = story_timeline(
        mentioned=[note("Denuclearization", "")], related=[], updates=[], until=STORY_DAY
    )

    assert not timeline
    assert timeline.items == []


def test_note_and_its_update_from_the_day_it_starts_are_one_event():
    talks = note("Six-party talks", "2003-08")
    first_round = update("The first round opens in Beijing.", "2003-08-27", talks)

    timeline = story_timeline(mentioned=[talks], related=[], updates=[first_round], until=STORY_DAY)

    event = timeline.items[0]
    assert event.date == "2003-08-27"  # the update's day is the more exact date
    assert event.text == "Six-party talks"
    assert event.links[0].detail == "The first round opens in Beijing."
    assert len(timeline) == 2


def test_update_during_a_short_event_is_part_of_it_but_not_during_a_long_one():
    summit = note("Hanoi summit", "2019-02-27")
    summit.ends_on = "2019-02-28"
    talks = note("Six-party talks", "2003-08")
    talks.ends_on = "2009-04"
    ended = update("The talks break up early.", "2019-02-28", summit)
    walked_out = update("North Korea walks out.", "2009-04-14", talks)

    timeline = story_timeline(
        mentioned=[summit, talks], related=[], updates=[ended, walked_out], until=STORY_DAY
    )

    assert lines(timeline) == [
        ("2003-08", ["Six-party talks"], False),
        ("2009-04-14", ["North Korea walks out."], False),
        ("2019-02-27", ["Hanoi summit"], False),
        ("2019-04-25", [], True),
    ]
    assert timeline.items[2].links[0].detail == "The talks break up early."


def test_events_of_the_same_day_collapse_into_one_led_by_what_the_story_mentions():
    talks = note("Six-party talks", "2003-08")
    statement = note("2005 six-party joint statement", "2005-09-19")
    agreed = update("The six parties agree their first joint statement.", "2005-09-19", talks)
    summit = note("Singapore summit", "2018-06-12")
    signed = note("Singapore joint statement", "2018-06-12")

    timeline = story_timeline(
        mentioned=[talks, summit], related=[signed, statement], updates=[agreed], until=STORY_DAY
    )

    assert lines(timeline)[1:3] == [
        ("2005-09-19", ["2005 six-party joint statement", agreed.text], False),
        ("2018-06-12", ["Singapore summit", "Singapore joint statement"], False),
    ]


def test_events_known_only_to_the_month_do_not_collapse():
    first = note("A plenum", "2018-04")
    second = note("A visit", "2018-04")

    timeline = story_timeline(mentioned=[first, second], related=[], updates=[], until=STORY_DAY)

    assert [item.text for item in timeline.items] == ["A plenum", "A visit", ""]


def test_story_on_the_day_of_an_event_appears_once_with_it():
    summit = note("2019 Kim–Putin summit", "2019-04-25")

    timeline = story_timeline(mentioned=[summit], related=[], updates=[], until=STORY_DAY)

    assert lines(timeline) == [("2019-04-25", ["2019 Kim–Putin summit"], True)]


def test_timeline_shows_the_latest_twelve_and_keeps_the_rest_earlier():
    notes = [note(f"Event {year}", str(year)) for year in range(1990, 2010)]

    timeline = story_timeline(mentioned=notes, related=[], updates=[], until=STORY_DAY)

    assert len(timeline.shown) == SHOWN_ITEMS == 12
    assert timeline.shown[-1].is_story
    assert [item.text for item in timeline.earlier] == [f"Event {y}" for y in range(1990, 1999)]
    assert len(timeline) == 21


partial_dates = st.builds(
    lambda year, month, day, precision: f"{year}-{month:02}-{day:02}"[: [4, 7, 10][precision]],
    st.integers(2015, 2020),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 2),
)


@given(
    st.lists(partial_dates, max_size=15),
    st.lists(st.tuples(partial_dates, st.integers(0, 14)), max_size=15),
)
def test_timeline_has_one_item_per_day_the_story_once_and_loses_nothing(note_dates, update_rows):
    notes = [note(f"Note-{i}", date) for i, date in enumerate(note_dates)]
    updates = [
        update(f"[update-{i}]", date, notes[of % len(notes)])
        for i, (date, of) in enumerate(update_rows)
        if notes
    ]

    timeline = story_timeline(mentioned=notes, related=[], updates=updates, until=STORY_DAY)

    told = [n.title for n in notes if first_day(n.starts_on) <= STORY_DAY]
    told += [u.text for u in updates if first_day(u.happened_on) <= STORY_DAY]
    links = [link for item in timeline.items for link in item.links]
    assert all(any(text in (link.text, *link.detail.split(" ")) for link in links) for text in told)
    assert bool(timeline) == bool(told)
    if timeline:
        days = [item.date for item in timeline.items if len(item.date) == 10]
        assert len(days) == len(set(days))
        assert [item.is_story for item in timeline.items].count(True) == 1
        assert timeline.items[-1].is_story
        assert len(timeline.shown) <= SHOWN_ITEMS


@pytest.mark.django_db
def test_story_page_timeline_has_one_item_per_event_and_a_show_all(client, demo):
    response = client.get(demo.get_absolute_url())

    html = response.content.decode()
    section = html.split('<section class="how-we-got-here"', 1)[1].split("</section>", 1)[0]
    earlier, shown = section.split("</details>", 1)
    assert 'class="timeline-earlier"' in earlier
    assert shown.count("<li") == SHOWN_ITEMS
    total = earlier.count("<li") + shown.count("<li")
    assert f"Show all {total} events" in earlier
    assert total < 19
    dates = re.findall(r'<span class="timeline__date[^"]*">([^<]+)</span>', section)
    assert len(dates) == len(set(dates)) == total  # every day once: the demo's are all days
    assert section.count("This story") == 1
    assert dates[-1] == "25 April 2019"
    assert "2019 Kim–Putin summit" in shown.rsplit("<li", 1)[1]
