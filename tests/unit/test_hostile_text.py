"""Whatever text the bot is asked to post, no chat line it sends runs as a CyTube command."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from rosey_bot.bot.text import HARD_CAP, MESSAGE_LIMIT, chat_lines, clean, split_message

# Text rich in what matters here: slashes, spaces, controls, bidi overrides, long words.
PIECES = st.sampled_from(["/", " ", "/clear", " /ban x", "\n", "\x00", "\x1b", "\u202e", "\u200b", "a", "word", "é"])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=120).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_no_posted_line_starts_with_a_slash_or_holds_a_control(text):
    for line in chat_lines(text):
        assert not line.startswith("/")
        assert line == clean(line)
        assert not any(unicodedata.category(c) == "Cc" or c in "\u202e\u200b" for c in line)
        assert 0 < len(line) <= MESSAGE_LIMIT


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_splitting_keeps_every_character_of_text_it_does_not_truncate(text):
    cleaned = clean(text)
    lines = split_message(text)
    assert all(not line.startswith("/") for line in lines[1:])
    if len(cleaned) <= HARD_CAP:
        assert "".join(lines).replace(" ", "") == cleaned.replace(" ", "")


def test_a_line_starting_with_a_command_is_not_posted_at_all():
    assert chat_lines("/clear") == []
    assert chat_lines("  \t/ban alice") == []
    assert chat_lines("\u202e/clear") == []  # an invisible override does not hide the slash
    assert chat_lines("say /clear, please") == ["say /clear, please"]  # only the start of a line runs
