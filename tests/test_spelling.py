"""Spelling-tolerant matching of a reader's query to a name (no database)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explainer.spelling import (
    closeness,
    compact,
    edit_distance,
    letters,
    max_edits,
    trigrams,
    words,
)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Kim Jong-un", "kimjongun"),
        ("kim jongun", "kimjongun"),
        ("KIM\u00a0JONG\u2011UN", "kimjongun"),
        ("Ms. Kim’s", "mskims"),
        ("snake_case", "snakecase"),
    ],
)
def test_compact_folds_case_spaces_hyphens_and_punctuation(text, form):
    assert compact(text) == form


def test_words_spell_hangul_syllables_in_their_letters():
    assert words("김정은") == [compact("김정은")]
    assert len(compact("김정은")) == 9  # ㄱ ㅣ ㅁ, ㅈ ㅓ ㅇ, ㅇ ㅡ ㄴ

    assert edit_distance(compact("김정운"), compact("김정은"), limit=3) == 1
    assert edit_distance(compact("김정운"), compact("김정일"), limit=3) == 2


def test_letters_counts_a_chinese_character_as_two():
    assert letters("putin") == 5
    assert letters("毛泽东") == 6


@pytest.mark.parametrize(
    ("length", "edits"), [(2, 0), (3, 0), (4, 1), (7, 1), (8, 2), (12, 2), (13, 3)]
)
def test_max_edits_grows_with_the_query(length, edits):
    assert max_edits(length) == edits


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [
        ("putin", "putin", 0),
        ("putn", "putin", 1),
        ("ptuin", "putin", 1),  # two neighbours swapped: one edit
        ("kimjongeun", "kimjongun", 1),
        ("kimjungeun", "kimjongun", 2),
        ("", "abc", 3),
    ],
)
def test_edit_distance(first, second, distance):
    assert edit_distance(first, second, limit=5) == distance


def test_edit_distance_stops_past_its_limit():
    assert edit_distance("vladivostok", "pyongyang", limit=2) == 3
    assert edit_distance("a", "abcdef", limit=2) == 3


@given(st.text(alphabet="abcde", max_size=8), st.text(alphabet="abcde", max_size=8))
def test_edit_distance_is_symmetric_and_bounded(first, second):
    distance = edit_distance(first, second, limit=3)

    assert distance == edit_distance(second, first, limit=3)
    assert 0 <= distance <= 4
    assert (distance == 0) == (first == second)


@given(st.text(max_size=30))
def test_a_name_is_always_close_to_itself(name):
    found = closeness(query=name, name=name)

    if compact(name):
        assert found is not None
        assert found.edits == 0
        assert found.similarity == 1
    else:
        assert found is None


@pytest.mark.parametrize(
    "query", ["Kim Jong-Eun", "Kim Jong Eun", "kim jongun", "KIM JONG UN", "Kim Jung Un"]
)
def test_romanizations_of_kim_jong_un_are_close(query):
    found = closeness(query=query, name="Kim Jong-un")

    assert found is not None
    assert found.whole


def test_respelling_without_a_typo_is_zero_edits():
    assert closeness(query="kim jongun", name="Kim Jong-un").edits == 0


def test_a_typo_in_one_word_of_a_name_is_close_to_that_word():
    found = closeness(query="putn", name="Vladimir Putin")

    assert found.edits == 1
    assert not found.whole
    assert found.key > closeness(query="putn", name="Putin").key


def test_a_closer_spelling_sorts_first():
    assert (
        closeness(query="kim jongil", name="Kim Jong-il").key
        < closeness(query="kim jongil", name="Kim Jong-un").key
    )


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("moon", "soon"),  # a short query's first letter must match
        ("kim", "kin"),  # under four letters, no typo at all
        ("vladivostok", "Pyongyang"),
        ("minister", "Person 1"),
        ("", "Putin"),
        ("--", "Putin"),
    ],
)
def test_different_words_are_not_close(query, name):
    assert closeness(query=query, name=name) is None


def test_hangul_typo_is_closer_to_the_nearer_vowel():
    to_eun = closeness(query="김정운", name="김정은")
    to_il = closeness(query="김정운", name="김정일")

    assert to_eun is not None
    assert to_il is None or to_eun.key < to_il.key


def test_trigrams_are_the_pieces_of_each_word_once():
    assert trigrams("Kim Jong-un kim") == [["kim"], ["jon", "ong"]]
    assert trigrams("putn") == [["put", "utn"]]
    assert trigrams("un ok") == []
    many = " ".join(a + b + c for a in "abcd" for b in "abcd" for c in "abcd")
    assert sum(len(pieces) for pieces in trigrams(many)) == 32


def test_a_query_under_four_letters_must_spell_the_whole_name():
    assert closeness(query="un", name="Kim Jong-un") is None
    assert closeness(query="U.S.", name="US").edits == 0


def test_trigrams_keep_hangul_syllables_whole_as_the_index_holds_them():
    assert trigrams("김정은 위원장") == [["김정은"], ["위원장"]]
