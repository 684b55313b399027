"""The release path end to end, under real systemd.

Releases built from this working tree, published into a signed aptly
repository, installed, upgraded and downgraded in a booted bookworm container.
"""

from tests.support import apt
from tests.support.container import Container
from tests.support.e2e_releases import V1, V2


def test_install_upgrade_downgrade(repository, base_rootfs, record_property):
    with Container(base_rootfs, "e2e-release", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        policy = c.run("apt-cache policy rosey-bot").stdout
        assert V1 in policy and V2 in policy, f"repository should offer both versions:\n{policy}"
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)

        _, t_install = apt.install(c, f"rosey-bot={V1}")
        apt.assert_running(c, V1)

        _, t_upgrade = apt.install(c, f"rosey-bot={V2}")
        apt.assert_running(c, V2)

        _, t_downgrade = apt.install(c, f"rosey-bot={V1}", downgrade=True)
        apt.assert_running(c, V1)

        # The operator's config was kept through all three transitions.
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == apt.TEST_CONFIG
        for name, t in (("install", t_install), ("upgrade", t_upgrade), ("downgrade", t_downgrade)):
            record_property(f"{name}_seconds", round(t, 2))
            print(f"e2e: {name} to healthy took {t:.2f} s")
