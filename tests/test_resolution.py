"""Names resolved in the story's context: pure, without a database."""

import datetime as dt

import pytest

from explainer.linking import Matcher, Term, parse_html
from explainer.resolution import RoleTitle, resolve

JONG_UN, YO_JONG, YONG_CHOL, JONG_IL = "kim-jong-un", "kim-yo-jong", "kim-yong-chol", "kim-jong-il"
MOON, POMPEO, TILLERSON, LAVROV = "moon-jae-in", "mike-pompeo", "rex-tillerson", "sergei-lavrov"

TERMS = [
    Term("Kim Jong-un", JONG_UN, is_proper_name=True),
    Term("김정은", JONG_UN),
    Term("Kim Yo-jong", YO_JONG, is_proper_name=True),
    Term("Kim Yong-chol", YONG_CHOL, is_proper_name=True),
    Term("Kim Jong-il", JONG_IL, is_proper_name=True),
    Term("Moon Jae-in", MOON, is_proper_name=True),
    Term("문재인", MOON),
    Term("Mike Pompeo", POMPEO, is_proper_name=True),
    Term("Pompeo", POMPEO, case_sensitive=True),
    Term("Rex Tillerson", TILLERSON, is_proper_name=True),
    Term("Sergei Lavrov", LAVROV, is_proper_name=True),
    Term("Donald Trump", "donald-trump", is_proper_name=True),
    Term("Trump", "donald-trump", is_proper_name=True),
    Term("Moscow", "russia", is_proper_name=True),
    Term("the South", "south-korea", case_sensitive=True, is_short_form=True),
    Term("South Korea", "south-korea", is_proper_name=True),
    Term("UN sanctions", "un-sanctions"),
    Term("UN sanctions on South Korea's rival", "un-sanctions"),
    Term("sanctions", "un-sanctions", is_short_form=True),
    *(
        Term(surname, target, case_sensitive=True, is_short_form=True)
        for surname, targets in {
            "Kim": (JONG_UN, YO_JONG, YONG_CHOL, JONG_IL),
            "김": (JONG_UN, YONG_CHOL),
            "金": (JONG_UN,),
            "Moon": (MOON,),
            "문": (MOON,),
        }.items()
        for target in targets
    ),
    Term(
        "the secretary of state",
        POMPEO,
        held_from="2018-04-26",
        held_until="2019",
        role="Secretary of State of the United States",
    ),
    Term(
        "the secretary of state",
        TILLERSON,
        held_from="2017-02-01",
        held_until="2018-03-31",
        role="Secretary of State of the United States",
    ),
    Term(
        "Russia's foreign minister",
        LAVROV,
        held_from="2004-03",
        role="Foreign Minister of Russia",
    ),
]
TITLES = {
    JONG_UN: [
        RoleTitle(
            JONG_UN, ("Chairman", "위원장", "국무위원장"), "2016-06", "", "Chairman of the SAC"
        )
    ],
    JONG_IL: [RoleTitle(JONG_IL, ("Chairman",), "1993-04", "2011-12", "Chairman of the NDC")],
    YONG_CHOL: [
        RoleTitle(
            YONG_CHOL, ("Vice Chairman", "부위원장"), "2016-05", "", "Vice Chairman of the WPK"
        )
    ],
    MOON: [RoleTitle(MOON, ("President", "대통령"), "2017-05-10", "2022-05-09", "President")],
}
MATCHER = Matcher(TERMS)


def resolved(body: str, day: dt.date = dt.date(2019, 4, 25)) -> list[tuple[str, str | None]]:
    """(the words, the entry or None) for each phrase found, in reading order."""
    parsed = parse_html("".join(f"<p>{paragraph}</p>" for paragraph in body.split("\n")))
    hits = MATCHER.find(parsed.text)
    results = resolve(
        hits, text=parsed.text, day=day, titles=TITLES, paragraph_of=parsed.paragraph_of
    )
    return [(parsed.text[r.start : r.end], r.target) for r in results]


def linked(body: str, day: dt.date = dt.date(2019, 4, 25)) -> list[tuple[str, str]]:
    return [(words, target) for words, target in resolved(body, day) if target is not None]


def test_a_surname_is_the_kim_named_in_full_most_recently():
    body = "Kim Jong-un arrived.\nHis sister Kim Yo-jong followed.\nMs Kim smiled."

    assert linked(body) == [
        ("Kim Jong-un", JONG_UN),
        ("Kim Yo-jong", YO_JONG),
        ("Kim", YO_JONG),
    ]


def test_a_surname_after_one_full_name_is_that_person():
    assert linked("Kim Jong-un met Putin.\nKim said the talks went well.") == [
        ("Kim Jong-un", JONG_UN),
        ("Kim", JONG_UN),
    ]


def test_a_full_name_inside_a_longer_linked_name_gives_a_short_form_its_meaning():
    body = "UN sanctions on South Korea's rival tightened.\nLater the South welcomed them."

    assert linked(body) == [
        ("UN sanctions on South Korea's rival", "un-sanctions"),
        ("the South", "south-korea"),
    ]


def test_a_short_form_inside_a_longer_name_does_not_count_as_named():
    assert linked("UN sanctions on South Korea's rival tightened.\nKim spoke.") == [
        ("UN sanctions on South Korea's rival", "un-sanctions"),
    ]


def test_a_surname_with_no_full_name_earlier_is_not_linked():
    assert resolved("Kim said the talks went well.") == [("Kim", None)]


def test_a_surname_after_two_full_names_in_one_paragraph_is_ambiguous():
    body = "Kim Jong-un and Kim Yo-jong arrived.\nKim waved."

    assert resolved(body)[-1] == ("Kim", None)


def test_a_name_that_runs_on_into_a_longer_name_is_not_linked():
    body = "Kim Jong-un arrived.\nKim Jong-nam, his half-brother, was killed in 2017."

    assert linked(body) == [("Kim Jong-un", JONG_UN)]


def test_the_south_inside_the_south_korean_is_not_linked():
    body = "South Korea sent envoys.\nThen the South Korean president agreed."

    assert resolved(body) == [("South Korea", "south-korea"), ("the South", None)]


def test_another_declaration_is_not_its_city():
    assert linked("The Moscow Declaration was signed.") == []


def test_a_title_resolves_a_surname_by_the_roles_held_on_the_story_date():
    assert linked("President Moon greeted Chairman Kim.", dt.date(2018, 4, 27)) == [
        ("President Moon", MOON),
        ("Chairman Kim", JONG_UN),
    ]
    assert linked("Chairman Kim received the envoys.", dt.date(2005, 9, 19)) == [
        ("Chairman Kim", JONG_IL)
    ]


def test_a_modifier_makes_a_title_someone_elses():
    body = "Kim Yong-chol flew to New York.\nVice Chairman Kim met Pompeo."

    assert linked(body, dt.date(2018, 5, 31)) == [
        ("Kim Yong-chol", YONG_CHOL),
        ("Vice Chairman Kim", YONG_CHOL),
        ("Pompeo", POMPEO),
    ]


def test_a_korean_title_after_the_surname_with_a_particle():
    assert linked("김 위원장은 문 대통령과 만났다.", dt.date(2018, 4, 27)) == [
        ("김 위원장", JONG_UN),
        ("문 대통령", MOON),
    ]


def test_a_korean_word_that_starts_with_a_surname_syllable_is_a_word():
    assert resolved("문재인 대통령은 문화 교류를 말했다.", dt.date(2018, 4, 27)) == [
        ("문재인", MOON)
    ]


@pytest.mark.parametrize(
    ("day", "target"),
    [(dt.date(2017, 9, 1), TILLERSON), (dt.date(2018, 7, 6), POMPEO), (dt.date(2005, 9, 19), None)],
)
def test_a_role_phrase_names_whoever_held_it_on_the_story_date(day, target):
    assert resolved("It was the secretary of state who spoke.", day) == [
        ("the secretary of state", target)
    ]


def test_a_role_phrase_of_one_holder():
    assert linked("Russia's foreign minister flew in.") == [("Russia's foreign minister", LAVROV)]


def test_ordinary_words_stay_words():
    assert linked("He promised to trump them under a full moon.") == []


def test_a_generic_short_form_links_only_after_its_full_form():
    assert resolved("The US imposed sanctions on Iran.") == [("sanctions", None)]
    assert linked("UN sanctions bite.\nThe sanctions hurt.") == [
        ("UN sanctions", "un-sanctions"),
        ("sanctions", "un-sanctions"),
    ]


def resolutions(body_html: str, day: dt.date) -> list:
    parsed = parse_html(body_html)
    return resolve(
        MATCHER.find(parsed.text),
        text=parsed.text,
        day=day,
        titles=TITLES,
        paragraph_of=parsed.paragraph_of,
    )


def test_reasons_say_how_each_phrase_was_read():
    html = "<p>Moon Jae-in spoke.</p><p>Kim Jong-un listened.</p><p>Moon smiled.</p>"

    results = resolutions(html, dt.date(2018, 4, 27))

    assert [result.reason for result in results] == [
        "full name",
        "full name",
        "full name earlier, paragraph 1",
    ]


def test_an_ambiguous_phrase_lists_its_candidates():
    html = "<p>Kim Jong-un and Kim Yo-jong arrived.</p><p>Kim waved.</p>"

    last = resolutions(html, dt.date(2019, 4, 25))[-1]

    assert last.is_ambiguous
    assert set(last.candidates) == {JONG_UN, YO_JONG}
    assert last.reason.startswith("ambiguous")
