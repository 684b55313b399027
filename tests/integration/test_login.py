"""Join and login against the fake server: guest, registered account, channel password."""

from tests.support.chatbot import PASSWORD, both_runtimes
from tests.support.waiting import wait_until

pytestmark = both_runtimes


def test_guest_joins_logs_in_and_reports_healthy(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    body = bot.wait_health(200)
    assert body["status"] == "healthy" and body["connected"] is True and body["channel"] == "test"
    assert fake.logins == [("rosey", True)]
    assert fake.events_from_clients("login") == [{"name": "rosey"}]  # a guest login carries no pw
    assert fake.events_from_clients("joinChannel") == [{"name": "test"}]
    wait_until(lambda: bot.health()[1]["user_count"] == 1, what="usercount")


def test_registered_account_logs_in_with_its_password(make_fake, make_bot, password_file):
    fake = make_fake(accounts={"rosey": (PASSWORD, 2)})
    bot = make_bot(fake, **{"account.password_file": str(password_file)})
    bot.wait_connected()
    assert fake.logins == [("rosey", False)]
    wait_until(lambda: bot.rank() == 2, what="rank after login")


def test_wrong_account_password_is_not_connected_and_counts_errors(make_fake, make_bot, password_file):
    fake = make_fake(accounts={"rosey": ("other", 2)})
    bot = make_bot(fake, **{"account.password_file": str(password_file)})
    wait_until(lambda: bot.health()[1]["error_count"] >= 2, what="failed logins counted")
    assert bot.health()[0] == 503
    assert fake.logins == []


def test_guest_login_error_is_retried_until_the_server_allows_it(make_fake, make_bot):
    fake = make_fake(guest_login_error="Guest logins are restricted to one per IP address per 60 seconds.")
    bot = make_bot(fake)
    wait_until(lambda: len(fake.events_from_clients("login")) >= 2, what="a retried login")
    assert bot.health()[0] == 503
    fake.behaviour.guest_login_error = None
    bot.wait_connected()


def test_channel_password_is_sent_on_need_password(make_fake, make_bot):
    fake = make_fake(channel_password="chanpw")
    bot = make_bot(fake, **{"server.channel_password": "chanpw"})
    bot.wait_connected()
    assert fake.events_from_clients("channelPassword") == ["chanpw"]


def test_wrong_channel_password_never_connects(make_fake, make_bot):
    fake = make_fake(channel_password="chanpw")
    bot = make_bot(fake, **{"server.channel_password": "nope"})
    wait_until(lambda: len(fake.events_from_clients("channelPassword")) >= 2, what="retries")
    assert bot.health()[0] == 503
    assert fake.logins == []


def test_no_event_is_sent_before_the_namespace_is_joined(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    frames = fake.client_frames()
    assert frames[0] == "40"
    assert not [why for why, _ in fake.dropped]
