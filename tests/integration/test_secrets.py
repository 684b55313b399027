"""The account and channel passwords never appear in logs, health output, metrics or the session's repr."""

import logging

from conftest import PASSWORD

from tests.support.waiting import wait_until

CHANNEL_PASSWORD = "chan-Secret-42"


def test_passwords_never_leak(make_fake, make_bot, password_file, caplog):
    caplog.set_level(logging.DEBUG)
    fake = make_fake(accounts={"rosey": (PASSWORD, 2)}, channel_password=CHANNEL_PASSWORD)
    bot = make_bot(fake, **{"account.password_file": str(password_file), "server.channel_password": CHANNEL_PASSWORD})
    bot.wait_connected()
    # The session of the connection in use: it holds both passwords (it sends them), and its repr must not show them.
    session = wait_until(lambda: bot.bot.client.session, what="the connected session")
    assert (session.password, session.channel_password) == (PASSWORD, CHANNEL_PASSWORD)
    assert fake.events_from_clients("login") == [{"name": "rosey", "pw": PASSWORD}]  # it was really sent
    fake.kick_all("again")  # a reconnect logs in once more
    wait_until(lambda: len(fake.logins) == 2, what="second login")
    fake.behaviour.accounts["rosey"] = ("changed", 2)  # and a failed login
    fake.kick_all("once more")
    wait_until(lambda: bot.health()[0] == 503, what="failed login")
    outputs = [caplog.text, repr(bot.config), str(bot.health()[1]), bot.metrics(), repr(session), str(session)]
    for text in outputs:
        assert PASSWORD not in text
        assert CHANNEL_PASSWORD not in text
    assert "rosey" in caplog.text  # the logs were captured at all
