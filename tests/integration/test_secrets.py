"""The account and channel passwords never appear in logs, health output or metrics."""

import logging

from tests.support.chatbot import PASSWORD, both_runtimes
from tests.support.waiting import wait_until


@both_runtimes
def test_passwords_never_leak(make_fake, make_bot, password_file, caplog, runtime):
    caplog.set_level(logging.DEBUG)  # the debian runtime's process logs at DEBUG on its own
    fake = make_fake(accounts={"rosey": (PASSWORD, 2)}, channel_password="chan-Secret-42")
    bot = make_bot(fake, **{"account.password_file": str(password_file), "server.channel_password": "chan-Secret-42"})
    bot.wait_connected()
    assert fake.events_from_clients("login") == [{"name": "rosey", "pw": PASSWORD}]  # it was really sent
    session = bot.session_repr()  # connected: a session holding both passwords exists now
    assert session.startswith("<Session 'test' as 'rosey'")
    fake.kick_all("again")  # a reconnect logs in once more
    wait_until(lambda: len(fake.logins) == 2, what="second login")
    fake.behaviour.accounts["rosey"] = ("changed", 2)  # and a failed login
    fake.kick_all("once more")
    wait_until(lambda: bot.health()[0] == 503, what="failed login")
    logs = caplog.text if runtime == "venv" else bot.log_text()
    for text in (logs, session, repr(bot.config), str(bot.health()[1]), bot.metrics()):
        assert PASSWORD not in text
        assert "chan-Secret-42" not in text
    assert "in channel test as rosey" in logs  # the logs were captured at all
