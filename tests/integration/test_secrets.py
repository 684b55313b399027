"""The account and channel passwords never appear in logs, health output or metrics."""

import logging

from conftest import PASSWORD, wait_until


def test_passwords_never_leak(make_fake, make_bot, password_file, caplog):
    caplog.set_level(logging.DEBUG)
    fake = make_fake(accounts={"rosey": (PASSWORD, 2)}, channel_password="chan-Secret-42")
    bot = make_bot(fake, **{"account.password_file": str(password_file), "server.channel_password": "chan-Secret-42"})
    bot.wait_connected()
    assert fake.events_from_clients("login") == [{"name": "rosey", "pw": PASSWORD}]  # it was really sent
    fake.kick_all("again")  # a reconnect logs in once more
    wait_until(lambda: len(fake.logins) == 2, what="second login")
    fake.behaviour.accounts["rosey"] = ("changed", 2)  # and a failed login
    fake.kick_all("once more")
    wait_until(lambda: bot.health()[0] == 503, what="failed login")
    outputs = [caplog.text, repr(bot.config), str(bot.health()[1]), bot.metrics()]
    outputs += [repr(bot.bot.client.session)] if bot.bot.client.session else []
    for text in outputs:
        assert PASSWORD not in text
        assert "chan-Secret-42" not in text
    assert "rosey" in caplog.text  # the logs were captured at all
