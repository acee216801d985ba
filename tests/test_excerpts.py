"""Cutting sanitized markup where a reader would (explainer/excerpts.py): pure, no database."""

from hypothesis import given
from hypothesis import strategies as st

from explainer.excerpts import plain_text, sentences_within, split_after_first_paragraph
from explainer.sanitize import sanitize_summary_html

SUMMARY = (
    "<p>Ri Yong-ho, born in 1956, served as ambassador to Britain. "
    'He became foreign minister in May 2016, after <a href="/actors/ri-su-yong/">Ri Su-yong</a>. '
    "Choe Son-hui succeeded him.</p>"
)


def test_summary_is_cut_after_the_last_sentence_that_fits():
    cut = sentences_within(SUMMARY, max_chars=140)

    assert cut == (
        "<p>Ri Yong-ho, born in 1956, served as ambassador to Britain. He became foreign "
        'minister in May 2016, after <a href="/actors/ri-su-yong/">Ri Su-yong</a>.</p>'
    )


def test_summary_that_fits_is_returned_unchanged():
    assert sentences_within(SUMMARY, max_chars=500) == SUMMARY


def test_first_sentence_is_kept_even_when_it_is_longer_than_the_limit():
    assert plain_text(sentences_within(SUMMARY, max_chars=10)) == (
        "Ri Yong-ho, born in 1956, served as ambassador to Britain."
    )


def test_cut_inside_an_element_closes_it():
    markup = (
        "<p><em>It ended without a deal.</em> Trump left. <strong>Kim stayed. Then</strong></p>"
    )

    assert sentences_within(markup, max_chars=30) == "<p><em>It ended without a deal.</em></p>"
    assert sentences_within(markup, max_chars=50) == (
        "<p><em>It ended without a deal.</em> Trump left. <strong>Kim stayed.</strong></p>"
    )


def test_initials_abbreviations_and_decimals_do_not_end_a_sentence():
    markup = (
        "<p>George W. Bush named him at 5.40 pm with Mr. Kim and the U.S. envoy, who met "
        "Gen. Lee on Oct. 3. He left.</p>"
    )

    assert plain_text(sentences_within(markup, max_chars=20)) == (
        "George W. Bush named him at 5.40 pm with Mr. Kim and the U.S. envoy, who met "
        "Gen. Lee on Oct. 3."
    )


def test_a_stop_before_a_lower_case_word_or_inside_quotes_is_read_on():
    markup = '<p>He said "it is over." and left. She asked, "Why?" Nobody knew.</p>'

    assert plain_text(sentences_within(markup, max_chars=10)) == 'He said "it is over." and left.'
    assert plain_text(sentences_within(markup, max_chars=50)) == (
        'He said "it is over." and left. She asked, "Why?"'
    )


def test_paragraph_end_is_a_sentence_end_even_without_a_stop():
    markup = "<p>Summit in Hanoi</p><p>It ended early.</p>"

    assert sentences_within(markup, max_chars=20) == "<p>Summit in Hanoi</p>"


def test_entities_and_attributes_are_kept_byte_for_byte():
    markup = (
        '<p>Talks &amp; <abbr title="a > b">sanctions</abbr> went on. '
        "Then &#8220;nothing&#8221;. The end.</p>"
    )

    assert sentences_within(markup, max_chars=45) == (
        '<p>Talks &amp; <abbr title="a > b">sanctions</abbr> went on. '
        "Then &#8220;nothing&#8221;.</p>"
    )


def test_korean_and_chinese_sentences_are_cut_at_their_full_stops():
    assert (
        sentences_within("<p>김정은이 왔다. 그리고 갔다.</p>", max_chars=8)
        == "<p>김정은이 왔다.</p>"
    )
    assert sentences_within("<p>会谈开始。会谈结束。</p>", max_chars=6) == "<p>会谈开始。</p>"


words = st.lists(st.sampled_from(["talks", "sanctions", "summit", "in", "Hanoi", "U.S.", "5.40"]))
# "U.S." and "5.40" only inside a sentence: one ending "U.S.." is, on purpose, read on.
sentence = st.builds(
    lambda first, rest, last, mark: " ".join([first, *rest, last]) + mark,
    st.sampled_from(["Kim", "Putin", "The talks", "North Korea", "Choe"]),
    words,
    st.sampled_from(["talks", "sanctions", "summit", "Hanoi", "2019"]),
    st.sampled_from([".", "!", "?"]),
)
paragraph = st.lists(sentence, min_size=1, max_size=4)


@given(st.lists(paragraph, min_size=1, max_size=3), st.integers(0, 400), st.booleans())
def test_excerpt_is_whole_sentences_from_the_start_and_stays_safe(paragraphs, limit, emphasis):
    def para(sentences):
        text = " ".join(sentences)
        return f"<p><em>{text}</em></p>" if emphasis else f"<p>{text}</p>"

    markup = sanitize_summary_html("".join(para(sentences) for sentences in paragraphs))
    # What a reader has read after each whole sentence (paragraphs run on in plain text).
    prefixes, done = [], ""
    for sentences in paragraphs:
        prefixes += [done + " ".join(sentences[:k]) for k in range(1, len(sentences) + 1)]
        done += " ".join(sentences)

    cut = sentences_within(markup, max_chars=limit)

    text = plain_text(cut)
    assert text in prefixes
    assert len(text) <= limit or text == prefixes[0]
    assert sanitize_summary_html(cut) == cut
    assert sentences_within(cut, max_chars=limit) == cut


def test_story_is_split_after_its_first_top_level_paragraph():
    body = "<blockquote><p>A quote.</p></blockquote><p>The lede.</p><h2>Then</h2><p>More.</p>"

    assert split_after_first_paragraph(body) == (
        "<blockquote><p>A quote.</p></blockquote><p>The lede.</p>",
        "<h2>Then</h2><p>More.</p>",
    )


def test_story_without_a_paragraph_is_all_rest():
    assert split_after_first_paragraph("<h2>Only a heading</h2>") == ("", "<h2>Only a heading</h2>")


def test_empty_markup_is_left_empty():
    assert sentences_within("", max_chars=10) == ""
    assert split_after_first_paragraph("") == ("", "")
    assert plain_text("") == ""
