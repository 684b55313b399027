"""Issue #2: the release path end to end, under real systemd.

Two releases built from this working tree, published into a signed aptly
repository, installed, upgraded and downgraded in a booted bookworm container.
"""

import json
import shlex

import pytest

from tests.support import apt, releases
from tests.support.container import Container

V1, V2 = "1.0.0", "1.0.1"


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    debs = releases.build_releases([V1, V2])
    return releases.publish([debs[V1], debs[V2]], tmp_path_factory.mktemp("repo"))


def health(c: Container) -> dict:
    out = c.run(
        "python3 -c 'import urllib.request as u, sys\n"
        'try: r = u.urlopen("http://127.0.0.1:8000/api/health", timeout=3)\n'
        "except u.HTTPError as e: r = e\n"
        "sys.stdout.write(r.read().decode())'"
    ).stdout
    return json.loads(out)


def assert_running(c: Container, version: str) -> None:
    state = c.run("systemctl is-active rosey-bot", check=False).stdout.strip()
    assert state == "active", (
        f"rosey-bot.service is {state!r} after installing {version}:\n"
        + c.run("journalctl -u rosey-bot --no-pager -n 30", check=False).stdout
    )
    proc = c.run(f"rosey-healthcheck --wait 20 --expect-version {shlex.quote(version)}", check=False)
    assert proc.returncode == 0, f"health check after installing {version}: {proc.stderr.strip()}"
    body = health(c)
    assert body["version"] == version, f"/api/health reports version {body['version']!r}, expected {version!r}"
    assert set(body) == {
        "status",
        "connected",
        "channel",
        "uptime_seconds",
        "version",
        "user_count",
        "requests_handled",
        "error_count",
    }
    assert apt.installed_version(c) == version, f"dpkg -l disagrees: expected {version}"


def test_install_upgrade_downgrade(repository, base_rootfs, record_property):
    with Container(base_rootfs, "e2e-release", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        policy = c.run("apt-cache policy rosey-bot").stdout
        assert V1 in policy and V2 in policy, f"repository should offer both versions:\n{policy}"
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)

        proc, t_install = apt.install(c, f"rosey-bot={V1}")
        assert_running(c, V1)

        proc, t_upgrade = apt.install(c, f"rosey-bot={V2}")
        assert_running(c, V2)

        proc, t_downgrade = apt.install(c, f"rosey-bot={V1}", downgrade=True)
        assert_running(c, V1)

        # The operator's config was kept through all three transitions.
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == apt.TEST_CONFIG
        for name, t in (("install", t_install), ("upgrade", t_upgrade), ("downgrade", t_downgrade)):
            record_property(f"{name}_seconds", round(t, 2))
            print(f"e2e: {name} to healthy took {t:.2f} s")
