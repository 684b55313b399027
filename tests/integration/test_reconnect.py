"""The bot gets back into the channel on its own; /api/health goes 503 and back to 200."""

import time
from contextlib import contextmanager

from tests.support.chatbot import both_runtimes
from tests.support.waiting import wait_until

pytestmark = both_runtimes


@contextmanager
def rejoin_held(fake):
    """Within the block, the bot's rejoin fails at login (retried), so it stays out of the channel.

    Unheld, the bot is back 10-100 ms after a kick or a dead connection: a health poll on a loaded
    machine can take longer than that, and a test polling for that short 503 misses it. Use with
    connect_limit=False: the retries must not run into the fake's connect budget.
    """
    fake.behaviour.guest_login_error = "Guest logins are restricted to one per IP address per 60 seconds."
    try:
        yield
    finally:
        fake.behaviour.guest_login_error = None


def test_server_restart(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    errors = bot.health()[1]["error_count"]
    fake.restart(down=0.5)
    body = bot.wait_health(200)
    assert body["error_count"] > errors
    assert fake.connects == 2 and len(fake.ready_clients) == 1


def test_health_is_503_while_the_server_is_down(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    fake._call(fake._shutdown())  # down until we say so
    body = bot.wait_health(503)
    assert body["status"] == "unhealthy" and body["connected"] is False
    fake._call(fake._listen())
    bot.wait_health(200)


def test_silent_server_is_detected_as_dead(make_fake, make_bot):
    fake = make_fake(ping_interval_ms=200, ping_timeout_ms=800, connect_limit=False)
    bot = make_bot(fake)
    bot.wait_connected()
    time.sleep(0.5)  # a few heartbeats: the bot answers them
    assert fake.client_frames("3")
    [first] = list(fake.conns)
    with rejoin_held(fake):
        fake.go_silent()
        bot.wait_health(503)
    body = bot.wait_health(200)
    assert body["error_count"] >= 1
    assert first not in fake.conns  # the bot itself closed the dead connection
    assert fake.connects >= 2


def test_kick_closes_the_socket_and_rejoins(make_fake, make_bot):
    fake = make_fake(connect_limit=False)
    bot = make_bot(fake)
    bot.wait_connected()
    with rejoin_held(fake):
        fake.kick_all("bye")
        bot.wait_health(503)
    bot.wait_health(200)
    wait_until(lambda: fake.closed, what="the kicked connection to end")
    kicked = fake.closed[0]
    assert kicked.closed_by_client is True  # the server never closes after a kick
    assert bot.health()[1]["error_count"] >= 1


def test_connect_rate_limit_backs_off_until_the_bucket_refills(make_fake, make_bot):
    # Server: 1 quick connect, then one per 0.6 s. The bot believes it may do 5 quick ones.
    fake = make_fake(connect_burst=1, connect_interval=0.6)
    bot = make_bot(fake, **{"bot.connect_interval": 0.3})
    bot.wait_connected()
    fake.kick_all()
    bot.wait_health(503, timeout=5)
    wait_until(lambda: fake.rate_limited_connects >= 1, timeout=10, what="a rate-limited connect")
    bot.wait_health(200, timeout=10)
    # After "Rate limit exceeded" the bot waits for its bucket to refill instead of hammering.
    assert fake.rate_limited_connects <= 3
    limited_at = next(f.t for f in fake.sent if f.frame.startswith("44"))
    next_open = min(f.t for f in fake.sent if f.frame.startswith("0{") and f.t > limited_at)
    assert next_open - limited_at >= 0.25  # waited for its own (drained) connect bucket
    assert bot.health()[1]["error_count"] >= 2


def test_metrics_follow_the_connection(make_fake, make_bot):
    fake = make_fake()
    bot = make_bot(fake)
    bot.wait_connected()
    assert "bot_connected 1.0" in bot.metrics()
    fake._call(fake._shutdown())
    bot.wait_health(503)
    assert "bot_connected 0.0" in bot.metrics()
    fake._call(fake._listen())
    bot.wait_health(200)
