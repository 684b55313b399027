"""Hostile chat against the real bot and a fake CyTube that runs chat commands as CyTube does.

CyTube runs a chat line starting with "/clear", "/ban name", "/me /clear" ...
with the rank of whoever posted it. The bot here is an admin (rank 3), so a
line it posts on someone's behalf must never be one.
"""

from __future__ import annotations

import pytest

from tests.support.botprocess import bot_process
from tests.support.chatbot import PASSWORD
from tests.support.net import free_port
from tests.support.waiting import wait_until

BOT_RANK = 3


@pytest.fixture
def admin_bot(make_fake, make_bot, password_file):
    """(fake, bot): the bot logged in with rank 3, a moderator "mod" and a guest "alice" in the channel."""
    fake = make_fake(accounts={"rosey": (PASSWORD, BOT_RANK)})
    bot = make_bot(fake, **{"account.password_file": str(password_file)})
    bot.wait_connected()
    wait_until(lambda: any(c.rank == BOT_RANK for c in fake.ready_clients), what="the bot's rank")
    fake.add_user("mod", 2)
    fake.add_user("alice", 0)
    wait_until(lambda: {"mod", "alice"} <= set(bot.bot.channel.users), what="the users in the bot's list")
    return fake, bot


def said(fake) -> list[str]:
    return [msg for who, msg in fake.chats if who == "rosey"]


def replies_to(fake, name: str) -> list[str]:
    return [msg for _, to, msg in fake.pms if to == name]


def settle(fake, marker: str = "marker line") -> None:
    """Wait until the bot posted ``marker`` for the moderator: everything asked before it is done."""
    fake.user_pm("mod", "rosey", f"say {marker}")
    wait_until(lambda: marker in said(fake), what=f"the bot to post {marker!r}")


@pytest.mark.parametrize(
    "line",
    ["/clear", "/ban alice", "/mute alice", "/kick alice", "/me /clear", "  /clear", "\t/clear"],
)
def test_say_never_runs_a_chat_command(admin_bot, line):
    fake, _ = admin_bot
    fake.user_pm("mod", "rosey", "say " + line)
    wait_until(lambda: replies_to(fake, "mod"), what="the answer to the moderator")
    settle(fake)
    assert fake.commands == [], f"the bot ran {fake.commands} with rank {BOT_RANK}"
    assert not any(f.frame.startswith('42["clearchat"') for f in fake.sent)
    assert "Not posted" in replies_to(fake, "mod")[0] and "command" in replies_to(fake, "mod")[0]
    assert said(fake) == ["marker line"]


def test_a_long_say_is_never_split_into_a_command(admin_bot):
    # Split at the space before "/clear", the second line would be a command.
    fake, _ = admin_bot
    text = "a" * 315 + " /clear " + "b" * 50
    fake.user_pm("mod", "rosey", "say " + text)
    settle(fake)
    assert fake.commands == []
    posted = said(fake)[:-1]
    assert len(posted) == 2 and all(not line.startswith("/") for line in posted)
    assert "".join(posted).replace(" ", "") == text.replace(" ", "")


def test_say_posts_what_the_moderator_typed(admin_bot):
    # CyTube delivers the PM HTML-escaped ("don&#39;t"); posting that back shows the escapes.
    fake, _ = admin_bot
    fake.user_pm("mod", "rosey", 'say don\'t <3 (really) & "quoted"')
    wait_until(lambda: said(fake), what="the say")
    assert said(fake) == ['don\'t <3 (really) & "quoted"']


def test_say_strips_controls_and_invisible_reordering(admin_bot):
    fake, _ = admin_bot
    fake.user_pm("mod", "rosey", "say one\ntwo\x07\x1b[31m \u202eevil\u202c \u200bthree")
    wait_until(lambda: said(fake), what="the say")
    assert said(fake) == ["one two [31m evil three"]


def test_command_prefix_that_cytube_escapes_still_works(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake, **{"bot.command_prefix": "("})
    bot.wait_connected()
    fake.add_user("alice", 0)
    fake.user_says("alice", "(ping")  # arrives as "&#40;ping"
    wait_until(lambda: fake.chats, what="the answer")
    assert fake.chats == [("rosey", "pong")]


def test_a_guest_flooding_commands_gets_a_bounded_number_of_answers(admin_bot):
    fake, bot = admin_bot
    for _ in range(30):
        fake.user_says("alice", "!ping")
    for _ in range(30):
        fake.user_pm("alice", "rosey", "status")
    fake.user_pm("mod", "rosey", "status")  # a moderator is still answered, and in order
    wait_until(lambda: replies_to(fake, "mod"), timeout=30, what="the moderator's answer")
    settle(fake)
    answered = said(fake).count("pong") + len(replies_to(fake, "alice"))
    assert answered <= 6, f"{answered} answers to one guest's 60 commands"
    assert replies_to(fake, "mod")[0].startswith("in test, ")


def test_log_lines_cannot_be_forged_from_chat(make_fake, tmp_path):
    # Media titles and server errors are logged; a newline in them must not start a new log line.
    fake = make_fake()
    with bot_process(tmp_path, fake.url, free_port()) as bot:
        wait_until(lambda: fake.ready_clients, timeout=20, what="the process to be in the channel")
        forged = "CRITICAL rosey_bot: forged"
        media = {"id": "x", "title": f"Song\n{forged}", "seconds": 1, "duration": "00:01", "type": "yt"}
        fake.send_event("changeMedia", {**media, "meta": {}, "currentTime": 0, "paused": False})
        fake.send_event("errorMsg", {"msg": f"oops\r\n{forged}"})
        wait_until(lambda: _sent(fake, "errorMsg"), what="the events to go out")
    assert "now playing: Song\\n" in bot.err, bot.err
    assert not any(line.startswith(forged) for line in bot.err.splitlines()), bot.err


def _sent(fake, event: str) -> bool:
    return any(f.frame.startswith(f'42["{event}"') for f in fake.sent)
