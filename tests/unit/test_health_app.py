"""/api/health and /api/metrics (docs/DESIGN.md#health-endpoint), over real HTTP from the waitress server."""

import json
import urllib.error
import urllib.request

import pytest

from rosey_bot import exitcodes, health_contract, healthcheck
from rosey_bot.http.health import HealthServer, create_app
from rosey_bot.state import BotState

FIELDS = {*health_contract.FIELDS, health_contract.STORAGE}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def served():
    clock = FakeClock()
    state = BotState("1.2.3", "lobby", error_window=100.0, clock=clock)
    server = HealthServer(create_app(state, degraded_error_rate=0.05), "127.0.0.1", 0).start()
    try:
        yield state, clock, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


def test_unhealthy_until_connected_then_healthy_then_degraded(served):
    state, clock, base = served
    status, body, _ = get(base + "/api/health")
    data = json.loads(body)
    assert status == 503 and set(data) == FIELDS
    assert data["status"] == "unhealthy" and data["connected"] is False and data["version"] == "1.2.3"

    state.set_connected(True)
    state.set_user_count(7)
    state.request_handled()
    status, body, _ = get(base + "/api/health")
    data = json.loads(body)
    assert status == 200 and data["status"] == "healthy"
    assert (data["user_count"], data["requests_handled"], data["channel"]) == (7, 1, "lobby")

    for _ in range(6):  # 6 errors / 100 s window = 0.06/s > 0.05/s
        state.error()
    status, body, _ = get(base + "/api/health")
    assert status == 200 and json.loads(body)["status"] == "degraded"
    assert json.loads(body)["error_count"] == 6

    clock.now += 101  # the errors leave the window; the total stays
    status, body, _ = get(base + "/api/health")
    assert json.loads(body)["status"] == "healthy" and json.loads(body)["error_count"] == 6


def test_metrics_reflect_state(served):
    state, _, base = served
    state.set_connected(True)
    state.set_user_count(3)
    state.error()
    status, body, headers = get(base + "/api/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    lines = body.splitlines()
    for expected in ("bot_connected 1.0", "bot_users 3.0", "bot_errors_total 1.0", "bot_requests_total 0.0"):
        assert expected in lines
    assert any(line.startswith("bot_build_info{") and 'version="1.2.3"' in line for line in lines)
    assert any(line.startswith("process_resident_memory_bytes") for line in lines)


def test_failing_database_writes_make_health_degraded_and_show_in_metrics(served):
    state, _, base = served
    state.set_connected(True)
    state.set_storage(False, 12, 3, "database or disk is full")
    status, body, _ = get(base + "/api/health")
    data = json.loads(body)
    assert status == 200 and data["status"] == "degraded"
    assert data["storage"] == {
        "writable": False,
        "buffered_rows": 12,
        "dropped_rows": 3,
        "error": "database or disk is full",
    }
    lines = get(base + "/api/metrics")[1].splitlines()
    for expected in (
        "bot_storage_writable 0.0",
        "bot_storage_buffered_rows 12.0",
        "bot_storage_dropped_rows_total 3.0",
    ):
        assert expected in lines

    state.set_storage(True, 0, 3)  # writes recovered; what was dropped stays counted
    data = json.loads(get(base + "/api/health")[1])
    assert data["status"] == "healthy" and data["storage"]["writable"] is True
    assert "bot_storage_dropped_rows_total 3.0" in get(base + "/api/metrics")[1].splitlines()


def test_unknown_path_is_404(served):
    _, _, base = served
    assert get(base + "/nope")[0] == 404


def test_healthcheck_liveness_ready_and_version(served, capsys):
    state, _, base = served
    url = base + "/api/health"
    assert healthcheck.main(["--url", url, "--expect-version", "1.2.3"]) == 0
    assert healthcheck.main(["--url", url, "--ready"]) == 1
    assert "not ready" in capsys.readouterr().err
    assert healthcheck.main(["--url", url, "--expect-version", "9.9.9"]) == 1
    assert "expected '9.9.9'" in capsys.readouterr().err
    state.set_connected(True)
    assert healthcheck.main(["--url", url, "--ready", "--expect-version", "1.2.3", "-q"]) == 0


def test_healthcheck_waits_then_fails_with_one_line(capsys):
    # Nothing listens on port 9 (discard) here: the deadline passes and one line says why.
    url = "http://127.0.0.1:9/api/health"
    assert healthcheck.main(["--url", url, "--wait", "1", "--interval", "0.2"]) == exitcodes.EX_UNAVAILABLE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "FAILED after 1s" in err[0] and "unreachable" in err[0] and "Connection refused" in err[0]
