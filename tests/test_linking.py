"""The pure linker: matching, anchoring and marking, without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explainer import linking
from explainer.linking import (
    Link,
    Matcher,
    Term,
    anchor,
    find_mentions,
    fold,
    locate,
    mark_mentions,
    normalize_alias,
    parse_html,
)

LIBRARY = Matcher(
    [
        Term("Kim Jong-un", "kim"),
        Term("Kim", "kim", case_sensitive=True),
        Term("김정은", "kim"),
        Term("Ким Чен Ын", "kim"),
        Term("Vladimir Putin", "putin"),
        Term("Putin", "putin"),
        Term("Russky Island", "russky"),
        Term("US", "usa", case_sensitive=True),
        Term("U.S.", "usa", case_sensitive=True),
        Term("six-party talks", "six-party"),
        Term("UNSC", "unsc", case_sensitive=True),
        Term("United Nations Security Council", "unsc"),
    ]
)


def found(text: str, matcher: Matcher = LIBRARY) -> list[tuple[str, str]]:
    return [
        (text[hit.start : hit.end], hit.targets[0])
        for hit in matcher.find(text)
        if not hit.longer_name
    ]


def test_find_longest_alias_wins_over_its_prefix():
    assert found("North Korean leader Kim Jong-un met Kim.") == [
        ("Kim Jong-un", "kim"),
        ("Kim", "kim"),
    ]


def test_find_hyphen_space_and_case_variants_are_one_name():
    assert found("kim jong un, Kim Jong Un and KIM JONG-UN") == [
        ("kim jong un", "kim"),
        ("Kim Jong Un", "kim"),
        ("KIM JONG-UN", "kim"),
    ]


def test_find_case_sensitive_alias_needs_its_capitals():
    assert found("Talks with us, not the US or the U.S. alone") == [
        ("US", "usa"),
        ("U.S.", "usa"),
    ]


def test_find_case_insensitive_alias_matches_lower_case_in_text():
    assert found("the campus on Russky island") == [("Russky island", "russky")]


def test_find_respects_word_boundaries():
    assert found("Kimchi, Putinism and DUNSC are not names") == []


def test_find_possessives_with_straight_and_curly_apostrophes():
    assert found("Kim's visit and Putin’s welcome") == [("Kim", "kim"), ("Putin", "putin")]


def test_find_hangul_with_and_without_particles():
    assert found("김정은 위원장과 김정은은 같다") == [("김정은", "kim"), ("김정은", "kim")]
    assert found("김정은행") == []


def test_find_cyrillic_alias():
    assert found("Встреча: Ким Чен Ын и Путин") == [("Ким Чен Ын", "kim")]


def test_find_runs_of_spaces_and_non_breaking_spaces_match_one_space():
    assert found("Vladimir\u00a0Putin and Vladimir  Putin") == [
        ("Vladimir\u00a0Putin", "putin"),
        ("Vladimir  Putin", "putin"),
    ]


def test_find_offsets_stay_right_after_runs_of_spaces():
    text = "Talks  with   Kim Jong-un,\n\n and then  Putin   met  Kim Jong  Un."

    assert found(text) == [
        ("Kim Jong-un", "kim"),
        ("Putin", "putin"),
        ("Kim Jong  Un", "kim"),
    ]


def test_finding_reads_each_phrase_found_a_bounded_number_of_times(monkeypatch):
    # A 1 MB story names its people thousands of times: the work must grow with the
    # phrases found, not with their square.
    scanned: list[int] = []
    longest = linking._longest

    def counted(text, start, phrases, *, limit):
        scanned.append(len(phrases))
        return longest(text, start, phrases, limit=limit)

    monkeypatch.setattr(linking, "_longest", counted)

    def work(repeats: int) -> int:
        scanned.clear()
        LIBRARY.find("Kim met Vladimir Putin and Kim Jong-un in the U.S. " * repeats)
        return sum(scanned)

    assert work(1000) <= 10 * work(100)


def test_matcher_without_terms_finds_nothing():
    assert Matcher([]).find("Kim Jong-un met Putin") == []
    assert Matcher([Term("--", "nothing")]).size == 0


def test_find_mentions_never_inside_an_existing_link_or_across_tags():
    parsed = parse_html('<p><a href="https://example.com">Putin</a> and <em>Kim</em> Jong-un</p>')

    hits = find_mentions(parsed=parsed, matcher=LIBRARY)

    assert [parsed.text[hit.start : hit.end] for hit in hits] == ["Kim"]


def test_find_mentions_offsets_are_in_decoded_article_text():
    parsed = parse_html("<p>A &amp; B: the <strong>UNSC</strong> &lt;met&gt; Putin</p>")

    hits = find_mentions(parsed=parsed, matcher=LIBRARY)

    assert parsed.text == "A & B: the UNSC <met> Putin"
    assert [parsed.text[hit.start : hit.end] for hit in hits] == ["UNSC", "Putin"]


def test_matcher_with_ten_thousand_terms_still_finds_the_longest():
    terms = [Term(f"Person Number {number}", f"p{number}") for number in range(10_000)]
    matcher = Matcher([*terms, Term("Person", "generic")])

    assert found("Person Number 9999 met Person Number 12 and a Person", matcher) == [
        ("Person Number 9999", "p9999"),
        ("Person Number 12", "p12"),
        ("Person", "generic"),
    ]


def test_fold_keeps_length_even_for_characters_whose_lowercase_is_longer():
    text = "İstanbul’s Kim‐Jong–un"

    assert len(fold(text)) == len(text)
    assert normalize_alias("  Kim   Jong-un ") == "kim jong un"


def test_mark_mentions_wraps_spans_in_links_and_escapes_text():
    parsed = parse_html("<p>Putin &amp; Kim met.</p>")

    html = mark_mentions(
        parsed=parsed, links=[Link(start=0, end=5, href="/actors/putin/", css_class="mention")]
    )

    assert html == '<p><a class="mention" href="/actors/putin/">Putin</a> &amp; Kim met.</p>'


def test_mark_mentions_refuses_spans_that_cross_tags_or_overlap():
    parsed = parse_html("<p>Kim <em>Jong-un</em></p>")

    with pytest.raises(ValueError, match="not inside one text node"):
        mark_mentions(parsed=parsed, links=[Link(start=0, end=11, href="/x/")])
    with pytest.raises(ValueError, match="Overlapping"):
        mark_mentions(parsed=parsed, links=[Link(0, 3, "/x/"), Link(2, 3, "/y/")])


words = st.sampled_from(
    [
        "Kim",
        "Kim Jong-un",
        "Putin",
        "the",
        "US",
        "us",
        "&amp;",
        "&lt;b&gt;",
        "김정은은",
        "’s",
        ",",
        " ",
    ]
)
paragraphs = st.lists(words, max_size=30).map(" ".join)
EXISTING_LINK = '<a href="/x/">link</a> '
documents = st.lists(
    st.tuples(st.sampled_from(["p", "blockquote", "li"]), paragraphs, st.booleans()), max_size=6
).map(
    lambda blocks: "".join(
        f"<{tag}>{EXISTING_LINK if has_link else ''}{text}</{tag}>"
        for tag, text, has_link in blocks
    )
)


@given(documents)
def test_mark_mentions_never_changes_the_text_a_reader_sees(document):
    parsed = parse_html(document)
    hits = find_mentions(parsed=parsed, matcher=LIBRARY)

    marked = mark_mentions(
        parsed=parsed, links=[Link(hit.start, hit.end, f"/{hit.targets[0]}/") for hit in hits]
    )

    assert parse_html(marked).text == parsed.text
    assert marked.count('class="mention"') == len(hits)


@given(st.text(max_size=200), st.integers(min_value=0, max_value=200))
def test_locate_finds_a_quote_again_after_text_is_inserted_before_it(text, cut):
    original = f"{text[:cut]} Ri Yong-ho spoke. {text[cut:]}"
    start = original.index("Ri Yong-ho")
    anchored = anchor(text=original, start=start, end=start + len("Ri Yong-ho"))
    edited = "A new opening sentence. " + original

    position = locate(
        text=edited,
        quote=anchored.quote,
        prefix=anchored.prefix,
        suffix=anchored.suffix,
        near=anchored.start,
    )

    assert position == start + len("A new opening sentence. ")


def test_locate_uses_context_to_pick_the_right_occurrence():
    text = "Kim met Putin. Later Kim said the talks were useful."
    second = text.rindex("Kim")
    anchored = anchor(text=text, start=second, end=second + 3)
    edited = "Earlier, Kim waved. " + text

    assert locate(
        text=edited, quote="Kim", prefix=anchored.prefix, suffix=anchored.suffix, near=0
    ) == edited.rindex("Kim")


def test_locate_returns_none_when_the_quote_is_gone():
    assert locate(text="Nothing about him now.", quote="Ri Yong-ho", prefix="", suffix="") is None
