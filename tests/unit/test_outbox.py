"""The outbox on a fake clock: sending order, echoes, cooldown requeue, the size limit."""

import logging

from rosey_bot.bot.outbox import ECHO_WAIT, Outbox


def drain(outbox: Outbox, now: float = 0.0) -> list[str]:
    """Pop everything, as the send loop would: the texts in sending order."""
    sent = []
    while (item := outbox.pop(now)) is not None:
        sent.append(item.text)
    return sent


def outbox_with(*texts: str, limit: int = 200) -> Outbox:
    outbox = Outbox(limit=limit)
    for text in texts:
        outbox.say(text)
    return outbox


def test_messages_leave_in_the_order_they_were_put():
    outbox = outbox_with("one", "two")
    outbox.pm("alice", "three")
    assert len(outbox) == 3
    items = [outbox.pop(0.0) for _ in range(3)]
    assert [(i.to, i.text) for i in items] == [(None, "one"), (None, "two"), ("alice", "three")]
    assert outbox.pop(0.0) is None and len(outbox) == 0


def test_a_dropped_message_goes_back_before_the_ones_queued_after_it():
    outbox = outbox_with("m0")
    assert outbox.pop(now=0.0).text == "m0"
    outbox.say("m1")  # queued while m0 was on its way
    outbox.say("m2")
    assert outbox.cooldown(now=0.2).text == "m0"  # the server dropped m0
    assert drain(outbox) == ["m0", "m1", "m2"]


def test_order_under_cooldown_with_several_drops():
    outbox = outbox_with(*(f"m{i}" for i in range(6)))
    for expected in ("m0", "m1", "m2"):
        assert outbox.pop(now=0.0).text == expected
    outbox.echoed()  # m0 arrived; the server handles messages in order
    assert outbox.cooldown(now=0.1).text == "m1"
    assert outbox.cooldown(now=0.1).text == "m2"
    assert drain(outbox) == ["m1", "m2", "m3", "m4", "m5"]


def test_a_message_dropped_twice_still_keeps_its_place():
    outbox = outbox_with("a", "b", "c")
    outbox.pop(now=0.0)
    outbox.cooldown(now=0.1)  # a back in front
    assert outbox.pop(now=1.0).text == "a"
    outbox.cooldown(now=1.1)  # dropped again
    outbox.say("d")
    assert drain(outbox) == ["a", "b", "c", "d"]


def test_the_echo_tells_which_message_arrived():
    outbox = outbox_with("m0", "m1")
    drain(outbox, now=0.0)
    outbox.echoed()
    assert outbox.cooldown(now=0.5).text == "m1"
    assert outbox.cooldown(now=0.5) is None  # nothing else is unechoed: nothing to requeue
    assert drain(outbox) == ["m1"]


def test_a_message_unechoed_past_the_echo_wait_is_forgotten():
    outbox = outbox_with("old", "new")
    assert outbox.pop(now=0.0).text == "old"
    assert outbox.pop(now=ECHO_WAIT).text == "new"
    assert outbox.cooldown(now=ECHO_WAIT + 1).text == "new"  # "old" is past the wait: not the dropped one
    assert drain(outbox) == ["new"]


def test_a_new_connection_has_nothing_to_requeue():
    outbox = outbox_with("m0")
    outbox.pop(now=0.0)
    outbox.connection_lost()
    assert outbox.cooldown(now=0.1) is None
    assert len(outbox) == 0


def test_a_full_outbox_drops_the_oldest_with_a_warning(caplog):
    caplog.set_level(logging.WARNING)
    outbox = outbox_with(*(f"m{i}" for i in range(5)), limit=3)
    assert drain(outbox) == ["m2", "m3", "m4"]
    assert caplog.text.count("outbox full (3 messages)") == 2


def test_every_chunk_put_wakes_the_sender_and_command_lines_are_refused(caplog):
    outbox = Outbox()
    woken = []
    outbox.on_put = lambda: woken.append(len(outbox))
    outbox.say("word " * 100)  # 500 characters: two chunks
    outbox.say("/clear")
    assert woken == [1, 2]
    assert "would run as a command" in caplog.text
    assert all(not text.startswith("/") for text in drain(outbox))
