"""Outgoing flood control: under the server's limit, and slower after a cooldown."""

from tests.support.chatbot import PASSWORD, both_runtimes
from tests.support.waiting import wait_until

pytestmark = both_runtimes


def test_a_flood_never_exceeds_the_server_limit(make_fake, make_bot, password_file):
    fake = make_fake(accounts={"rosey": (PASSWORD, 2)})  # a moderator: burst 20, then 10/s
    bot = make_bot(fake, **{"account.password_file": str(password_file)})
    bot.wait_connected()
    lines = [f"line {i}" for i in range(30)]
    bot.say(*lines)
    wait_until(lambda: len(fake.chats) == 30, timeout=15, what="all 30 lines")
    assert [msg for _, msg in fake.chats] == lines
    assert fake.cooldowns == 0 and fake.dropped == []


def test_guest_with_antiflood_stays_under_the_stricter_limit(make_fake, make_bot):
    fake = make_fake(antiflood=True, antiflood_burst=4, antiflood_rate=4)
    bot = make_bot(fake)
    bot.wait_connected()
    bot.say(*(f"m{i}" for i in range(10)))
    wait_until(lambda: len(fake.chats) == 10, timeout=15, what="all 10 lines")
    assert fake.cooldowns == 0


def test_cooldown_slows_the_bot_down_and_nothing_is_lost(make_fake, make_bot):
    # The server is stricter than CyTube's defaults and does not say so: only cooldown tells.
    fake = make_fake(chat_burst=3, chat_rate=4)
    bot = make_bot(fake)
    bot.wait_connected()
    lines = [f"line {i}" for i in range(16)]
    bot.say(*lines)
    wait_until(lambda: len(fake.chats) == 16, timeout=20, what="all lines, dropped ones resent")
    # In the order they were said: each dropped line went back into its own place in the queue.
    assert [msg for _, msg in fake.chats] == lines
    # Without backing off, all but the first 3 of a 16-line burst would be dropped.
    assert 1 <= fake.cooldowns <= 5
    assert bot.send_limit()[1] < 8.0


def test_long_messages_are_split_at_320_and_capped_at_1000(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    bot.say("word " * 400)
    wait_until(lambda: len(fake.chats) == 4, what="four chunks")
    assert all(len(msg) <= 320 for _, msg in fake.chats)
    assert sum(len(msg) for _, msg in fake.chats) <= 1000
