"""Rate limiter, reconnect backoff, connect budget and message splitting, on a fake clock."""

import random

from rosey_bot.bot.limits import Backoff, ConnectLimiter, OutgoingLimiter, TokenBucket
from rosey_bot.bot.text import split_message


def sent_within(limiter: OutgoingLimiter, seconds: float, step: float = 0.001) -> list[float]:
    times, now = [], 0.0
    while now < seconds:
        if limiter.take(now):
            times.append(now)
        now += step
    return times


def max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_token_bucket():
    b = TokenBucket(2, 1.0, now=0)
    assert b.take(0) and b.take(0) and not b.take(0)
    assert b.wait_time(0) == 1.0
    assert b.take(1.0)


def test_outgoing_limiter_never_exceeds_the_server_limits():
    limiter = OutgoingLimiter(now=0)  # rank unknown: assume antiflood, burst 4 then 1/s
    times = sent_within(limiter, 10)
    assert max_in_window(times, 1.0) <= 4 and len(times) <= 4 + 10
    mod = OutgoingLimiter(now=0)
    mod.update(0, rank=2)
    times = sent_within(mod, 5)
    assert max_in_window(times, 1.0) <= 20 and len(times) <= 20 + 50
    assert len(times) > len(sent_within(OutgoingLimiter(now=0), 5))


def test_channel_opts_without_antiflood_lifts_the_guest_limit():
    limiter = OutgoingLimiter(now=0)
    limiter.update(0, antiflood=(False, 4, 1))
    assert limiter.limit == (10.0, 8.0)


def test_cooldown_pauses_and_halves_the_rate_then_recovers():
    limiter = OutgoingLimiter(now=0)
    limiter.update(0, rank=2)
    rate = limiter.limit[1]
    limiter.cooldown(500, now=1.0)
    assert not limiter.take(1.2) and limiter.wait_time(1.2) > 0.29
    assert limiter.limit[1] == rate / 2
    limiter.wait_time(40.0)
    assert limiter.limit[1] == rate


def test_backoff_is_capped_full_jitter():
    backoff = Backoff(1.0, 8.0, random.Random(1))
    delays = [backoff.next_delay() for _ in range(50)]
    assert all(0 <= d <= 8.0 for d in delays)
    assert delays[0] <= 1.0 and delays[1] <= 2.0 and delays[2] <= 4.0
    assert len(set(delays)) == 50  # jittered
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_connect_limiter_follows_the_server_bucket():
    limiter = ConnectLimiter(5, 10.0, now=0)
    assert [limiter.take(0) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.wait_time(0) == 10.0
    assert limiter.take(10.0)
    limiter.rate_limited(20.0)
    assert limiter.wait_time(20.0) == 10.0


def test_split_message():
    assert split_message("hello") == ["hello"]
    assert split_message("") == []
    parts = split_message("word " * 400)
    assert len(parts) == 4 and all(len(p) <= 320 for p in parts) and sum(map(len, parts)) <= 1000
    parts = split_message("x" * 700)
    assert [len(p) for p in parts] == [320, 320, 60]
    assert split_message("a\nb   c") == ["a b c"]


def test_reconnect_config_keys_are_validated():
    import pytest

    from rosey_bot.config import ConfigError, parse

    cfg = parse({"bot": {"reconnect_min_delay": 0.5, "reconnect_max_delay": 30, "connect_burst": 3}})
    assert (cfg.bot.reconnect_min_delay, cfg.bot.reconnect_max_delay, cfg.bot.connect_burst) == (0.5, 30.0, 3)
    assert parse({}).bot.connect_interval == 10.0
    for bad, key in (
        ({"connect_burst": 6}, "bot.connect_burst"),
        ({"connect_interval": 0}, "bot.connect_interval"),
        ({"reconnect_min_delay": 5, "reconnect_max_delay": 1}, "bot.reconnect_max_delay"),
        ({"reconnect_max_delay": "x"}, "bot.reconnect_max_delay"),
    ):
        with pytest.raises(ConfigError) as info:
            parse({"bot": bad})
        assert info.value.key == key
