"""Chat: the first line waits for login and userlist; commands; moderator PM commands."""

from tests.support.chatbot import both_runtimes
from tests.support.waiting import wait_until


@both_runtimes
def test_first_chat_line_waits_for_login_and_userlist(make_fake, make_bot):
    # A slow userlist and a late rank: a bot that talks early would have its line dropped.
    fake = make_fake(userlist_delay=0.4, rank_delay=0.3)
    bot = make_bot(fake)
    bot.say("hello, channel")
    wait_until(lambda: fake.chats, what="the first chat line")
    assert fake.chats[0] == ("rosey", "hello, channel")
    assert fake.dropped == []
    login_at = next(f.t for f in fake.sent if f.frame.startswith('42["login"'))
    userlist_at = next(f.t for f in fake.sent if f.frame.startswith('42["userlist"'))
    chat_at = next(f.t for f in fake.received if f.frame.startswith('42["chatMsg"'))
    assert chat_at > login_at and chat_at > userlist_at


@both_runtimes
def test_chat_commands_are_answered_and_counted(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    fake.add_user("alice", 1)
    for command in ("!ping", "!uptime", "!version", "!help", "!nosuchcommand", "just chatting"):
        fake.user_says("alice", command)
    wait_until(lambda: len(fake.chats) >= 4, what="four answers")
    answers = [msg for who, msg in fake.chats if who == "rosey"]
    assert answers[0] == "pong"
    assert answers[1].startswith("up ")
    assert answers[2] == "rosey-bot 9.9.9-test"
    assert answers[3] == "commands: !ping !uptime !version !help"
    wait_until(lambda: bot.health()[1]["requests_handled"] == 4, what="requests_handled")
    assert len(answers) == 4


def test_replayed_chat_on_join_is_logged_but_not_answered(make_fake, make_bot):
    fake = make_fake()
    fake.add_user("alice", 1)
    fake.user_says("alice", "!ping")  # in the channel's buffer before the bot joins
    bot = make_bot(fake)
    bot.wait_connected()
    fake.user_says("alice", "!version")
    wait_until(lambda: fake.chats, what="the answer")
    assert fake.chats == [("rosey", "rosey-bot 9.9.9-test")]
    bot.call(bot.db.flush)
    wait_until(lambda: (bot.db.user_stats("alice") or {}).get("message_count") == 2, what="both lines logged once")


def test_custom_prefix(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake, **{"bot.command_prefix": "?"})
    bot.wait_connected()
    fake.add_user("alice", 0)
    fake.user_says("alice", "!ping")
    fake.user_says("alice", "?ping")
    wait_until(lambda: fake.chats, what="the answer")
    assert fake.chats == [("rosey", "pong")]


@both_runtimes
def test_moderator_pm_commands(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    fake.add_user("mod", 2)
    fake.add_user("alice", 0)
    fake.user_says("alice", "hello")
    for command in ("status", "users", "stats", "stats alice", "help", "say hi everyone"):
        fake.user_pm("mod", "rosey", command)
    wait_until(lambda: len(fake.pms) >= 6 and fake.chats, what="six PM answers and the say")
    replies = [msg for sender, to, msg in fake.pms if to == "mod"]
    assert replies[0].startswith("in test, ")
    assert replies[1] == "3 users: alice, mod, rosey"
    assert replies[2].startswith("schema v")
    assert replies[3].startswith("alice: 1 messages")
    assert replies[4].startswith("PM commands:")
    assert replies[5] == "ok"
    assert ("rosey", "hi everyone") in fake.chats
    wait_until(lambda: bot.health()[1]["requests_handled"] == 6, what="requests_handled")


def test_moderator_pm_commands_are_refused_below_rank_2(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    fake.add_user("registered", 1)
    fake.user_pm("registered", "rosey", "say I am not a moderator")
    fake.user_pm("registered", "rosey", "status")
    wait_until(lambda: len(fake.pms) >= 2, what="two refusals")
    assert all(to == "registered" and "moderators" in msg for _, to, msg in fake.pms)
    assert ("rosey", "I am not a moderator") not in fake.chats


def test_chat_pm_media_and_user_counts_are_stored(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    fake.add_user("alice", 0)
    fake.user_says("alice", "one")
    fake.user_pm("alice", "rosey", "psst")
    fake.send_event("userLeave", {"name": "alice"})
    fake.send_event("usercount", 7)
    wait_until(lambda: bot.health()[1]["user_count"] == 7, what="usercount")
    bot.call(bot.db.flush)

    def stored():
        tables = bot.db.summary()["tables"]
        return (
            all(tables.get(t, 0) > 0 for t in ("chat_messages", "private_messages", "media_log", "user_counts"))
            and tables
        )

    wait_until(stored, what="rows in every table")
