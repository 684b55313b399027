"""The per-user answer budget and say's refusals, on the Commands object with a fake clock."""

from rosey_bot.bot.commands import REPLY_BURST, REPLY_REFILL, SAY_COMMAND_REFUSAL, Commands
from rosey_bot.state import BotState


def commands(clock):
    return Commands(BotState("1.0", "test", 300.0), "!", lambda: {}, lambda: {}, lambda name: None, clock=clock)


def test_a_guest_gets_a_burst_then_one_answer_per_refill():
    now = [100.0]
    c = commands(lambda: now[0])
    answers = [c.chat("!ping", "guest", 0) for _ in range(REPLY_BURST + 3)]
    assert answers == ["pong"] * REPLY_BURST + [None] * 3
    assert c.chat("!ping", "GUEST", 0) is None  # names are case-insensitive
    assert c.chat("!ping", "other", 0) == "pong"  # one user's flood costs nobody else
    now[0] += REPLY_REFILL
    assert c.chat("!ping", "guest", 0) == "pong"
    assert c.chat("!ping", "guest", 0) is None
    assert c.pm(0, "status", "guest") is None  # PMs draw on the same budget


def test_moderators_have_no_budget():
    c = commands(lambda: 0.0)
    assert all(c.pm(2, "help", "mod") is not None for _ in range(50))
    assert all(c.chat("!ping", "mod", 2) == "pong" for _ in range(50))


def test_plain_chat_costs_no_budget():
    c = commands(lambda: 0.0)
    for _ in range(50):
        assert c.chat("hello !ping", "guest", 0) is None
        assert c.chat("!nosuchcommand", "guest", 0) is None
    assert c.chat("!ping", "guest", 0) == "pong"


def test_say_refuses_what_would_run_as_a_command():
    c = commands(lambda: 0.0)
    for text in ("/clear", "  /ban x", "\u202e/mute x", "\x00/kick x", "/me /clear"):
        reply = c.pm(2, "say " + text, "mod")
        assert reply.text == SAY_COMMAND_REFUSAL and reply.say is None, text
    assert c.pm(2, "say I &lt;3 &#40;this&#41;", "mod").say == "I <3 (this)"
    long = c.pm(2, "say " + "a" * 318 + " /clear", "mod")  # split so that no line starts with "/"
    assert long.text == "ok" and long.say == "a" * 318 + " /clear"
