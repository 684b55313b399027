"""repo/prune.sh keeps the last N and the deployed releases; repo/withdraw.sh takes a bad release out for good."""

import subprocess

from .repo_scripts import offered, packages_index, publish, run_script, tree_state


def aptly(root, *args) -> str:
    return subprocess.run(
        ["aptly", f"-config={root}/aptly.conf", *args], capture_output=True, text=True, check=False
    ).stdout


def release(root, deb_factory, version):
    publish(root, deb_factory(version), deb_factory(version, package="rosey-monitoring", arch="all"))


def test_prune_keeps_last_n_and_deployed_and_removes_the_rest_everywhere(tmp_path, deb_factory):
    root = tmp_path / "r"
    versions = ["1.0.0", "1.1.0", "1.2.0", "1.9.0~rc1", "1.9.0", "1.10.0"]
    for v in versions:
        release(root, deb_factory, v)
    deployed = tmp_path / "deployed"
    deployed.write_text("# from make audit\n1.1.0\n")
    out = run_script("prune.sh", root, "--keep", "2", "--deployed-file", deployed, "--deployed", "1.2.0").stdout
    kept = ["1.1.0", "1.10.0", "1.2.0", "1.9.0"]  # newest two in Debian order (1.10.0 > 1.9.0 > 1.9.0~rc1) + deployed
    assert offered(root) == kept, out
    assert offered(root, "rosey-monitoring") == kept
    # Gone from aptly's repo, every snapshot (release snapshots of pruned versions dropped) and the pool.
    assert aptly(root, "package", "search", "$Version (= 1.0.0)") == ""
    assert aptly(root, "package", "search", "$Version (= 1.9.0~rc1)") == ""
    snapshots = aptly(root, "snapshot", "list", "-raw").split()
    assert "rosey-bot-1.0.0" not in snapshots and "rosey-bot-1.9.0~rc1" not in snapshots
    for v in kept:
        assert f"rosey-bot-{v}" in snapshots
        assert "1.0.0" not in aptly(root, "snapshot", "search", f"rosey-bot-{v}")
    pool = sorted(p.name for p in (root / "aptly/pool").rglob("*.deb"))
    assert len(pool) == 2 * len(kept) and not [p for p in pool if "_1.0.0_" in p]
    # The previous tree (still naming the pruned files) went with them.
    assert not (root / "apt-previous").exists() and len(list((root / "trees").iterdir())) == 1
    # Prune is idempotent.
    before = tree_state(root)
    again = run_script("prune.sh", root, "--keep", "2", "--deployed", "1.1.0", "--deployed", "1.2.0")
    assert "nothing to prune" in again.stdout
    assert tree_state(root) == before


def test_prune_dry_run_and_bad_arguments_change_nothing(tmp_path, deb_factory):
    root = tmp_path / "r"
    for v in ("1.0.0", "1.1.0"):
        release(root, deb_factory, v)
    before = tree_state(root)
    assert "pruning: 1.0.0" in run_script("prune.sh", root, "--keep", "1", "--dry-run").stdout
    assert run_script("prune.sh", root, "--keep", "0", check=False).returncode == 2
    assert run_script("prune.sh", root, check=False).returncode == 2
    assert tree_state(root) == before


def test_withdraw_offers_the_previous_release_again_and_for_good(tmp_path, deb_factory):
    root = tmp_path / "r"
    release(root, deb_factory, "1.0.0")
    release(root, deb_factory, "1.1.0")
    index_before_bad = packages_index(root)
    release(root, deb_factory, "1.2.0")
    out = run_script("withdraw.sh", root, "1.2.0").stdout
    assert "newest offered version is now 1.1.0" in out
    assert packages_index(root) == index_before_bad, "exactly the previous release's index is served again"
    # Never again, not even the identical file.
    before = tree_state(root)
    proc = publish(root, deb_factory("1.2.0"), check=False)
    assert proc.returncode != 0 and "withdrawn" in proc.stderr
    assert tree_state(root) == before
    # Unknown versions are an error; withdrawing twice is harmless.
    assert run_script("withdraw.sh", root, "9.9.9", check=False).returncode != 0
    run_script("withdraw.sh", root, "1.2.0")
    assert tree_state(root) == before
    release(root, deb_factory, "1.2.1")
    assert offered(root) == ["1.0.0", "1.1.0", "1.2.1"]
