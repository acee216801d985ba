"""The pure "How we got here" builder."""

import datetime as dt
from types import SimpleNamespace

from explainer.timeline import story_timeline


def note(title, starts_on):
    return SimpleNamespace(title=title, starts_on=starts_on, get_absolute_url=lambda: f"/{title}/")


def test_timeline_orders_by_date_at_mixed_precision_and_stops_at_the_story():
    talks = note("Six-party talks", "2003-08")
    summit = note("Kim-Putin summit", "2019-04-25")
    statement = note("Joint statement", "2005-09-19")
    later = note("Later event", "2019-06")
    quit_talks = SimpleNamespace(happened_on="2009", text="Talks collapse", note=talks)

    items = story_timeline(
        mentioned=[summit, talks, later],
        related=[statement],
        updates=[quit_talks],
        until=dt.date(2019, 4, 25),
    )

    assert [(item.date, item.text, item.mentioned) for item in items] == [
        ("2003-08", "Six-party talks", True),
        ("2005-09-19", "Joint statement", False),
        ("2009", "Talks collapse", False),
        ("2019-04-25", "Kim-Putin summit", True),
    ]
    assert items[0].when == "August 2003"


def test_timeline_skips_undated_notes_and_duplicates():
    topic = note("Denuclearization", "")
    talks = note("Six-party talks", "2003-08")

    items = story_timeline(
        mentioned=[topic, talks], related=[talks], updates=[], until=dt.date(2019, 1, 1)
    )

    assert [item.text for item in items] == ["Six-party talks"]
