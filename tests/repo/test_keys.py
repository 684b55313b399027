"""Signing keys: imported from a CI secret, two at once during a rotation; no apt-key anywhere."""

import re
import subprocess

from tests.support.paths import ROOT

from .conftest import gpg_out, new_key, publish, run_script


def good_signers(root, keyring, suite="testing") -> list[str]:
    dists = root / f"apt/dists/{suite}"
    status = subprocess.run(
        ["gpgv", "--status-fd", "1", "--keyring", str(keyring), str(dists / "InRelease")],
        capture_output=True,
        text=True,
    ).stdout
    return [line.split()[2] for line in status.splitlines() if line.startswith("[GNUPG:] VALIDSIG")]


def test_key_imported_from_a_ci_secret_signs(tmp_path, deb_factory):
    vault = tmp_path / "vault"
    fpr = new_key(vault, "CI key <ci@invalid>")
    secret = gpg_out(vault, "--armor", "--export-secret-keys", fpr).decode()
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"), env={"ROSEY_SIGNING_KEY_ASC": secret})
    public = tmp_path / "ci.gpg"
    public.write_bytes(gpg_out(vault, "--export", fpr))
    assert good_signers(root, public) == [fpr]
    assert (root / "apt/rosey-archive-keyring.gpg").read_bytes() == public.read_bytes()
    # From a file too, and no throwaway key was generated beside it.
    asc = tmp_path / "key.asc"
    asc.write_text(secret)
    publish(root, deb_factory("1.1.0"), env={"ROSEY_SIGNING_KEY_ASC": str(asc)})
    assert good_signers(root, public) == [fpr]
    listed = gpg_out(root / "gnupg", "--with-colons", "--list-secret-keys").decode()
    assert [line for line in listed.splitlines() if line.startswith("fpr")] == [f"fpr:::::::::{fpr}:"]


def test_rotation_signs_with_both_keys_and_ships_both(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    old = gpg_out(root / "gnupg", "--with-colons", "--list-secret-keys").decode().split("fpr:::::::::")[1][:40]
    new = new_key(root / "gnupg", "rosey-bot repository signing key 2 <repo@rosey-bot.invalid>")
    proc = publish(root, deb_factory("1.0.0"), env={"ROSEY_SIGNING_KEY": f"{old} {new}"})
    assert "now serves" in proc.stdout, "new keys republish even when the packages are unchanged"
    keyring = root / "apt/rosey-archive-keyring.gpg"
    assert sorted(good_signers(root, keyring)) == sorted([old, new])
    shown = gpg_out(tmp_path, "--with-colons", "--show-keys", str(keyring)).decode()
    assert old in shown and new in shown
    # The keyring package built now ships both.
    run_script("build-keyring.sh", root, env={"ROSEY_SIGNING_KEY": f"{old} {new}"})
    deb = next((root / "debs").glob("rosey-archive-keyring_*_all.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "x")], check=True)
    assert (tmp_path / "x/usr/share/keyrings/rosey-archive-keyring.gpg").read_bytes() == keyring.read_bytes()
    # After the transition: the new key alone.
    publish(root, deb_factory("1.1.0"), env={"ROSEY_SIGNING_KEY": new})
    assert good_signers(root, keyring) == [new]


def test_keyring_package_content_and_lintian(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    run_script("build-keyring.sh", root, env={"ROSEY_REPO_URI": "https://apt.example.org/rosey/"})
    deb = next((root / "debs").glob("rosey-archive-keyring_*_all.deb"))
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./usr/share/keyrings/rosey-archive-keyring.gpg" in listing
    assert "./etc/apt/sources.list.d/rosey.sources" in listing
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "x")], check=True)
    sources = (tmp_path / "x/etc/apt/sources.list.d/rosey.sources").read_text()
    assert "URIs: https://apt.example.org/rosey/\n" in sources
    assert "Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg\n" in sources
    assert "rosey-archive-keyring" in (root / "apt/dists/stable/main/binary-amd64/Packages").read_text()
    lint = subprocess.run(["lintian", "--fail-on", "error,warning", str(deb)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # Unchanged keys and URI: nothing new is built or published; the build is reproducible.
    before = deb.read_bytes()
    out = run_script("build-keyring.sh", root, env={"ROSEY_REPO_URI": "https://apt.example.org/rosey/"}).stdout
    assert "already ships these keys" in out
    version = deb.name.split("_")[1]
    again = run_script(
        "build-keyring.sh",
        root,
        "--version",
        version,
        "--no-publish",
        "--out",
        tmp_path / "again",
        env={"ROSEY_REPO_URI": "https://apt.example.org/rosey/"},
    )
    assert again.returncode == 0
    assert (tmp_path / "again" / deb.name).read_bytes() == before


def warns(line: str) -> bool:
    return re.search(r"\b(no|never|not|without|deprecated)\b", line.lower()) is not None


def test_no_apt_key_anywhere():
    """apt-key is deprecated and trusts a key for every repository: nothing may use it.

    Only documentation and comments may name it, to warn against it.
    """
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if name == "tests/repo/test_keys.py" or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for line in text.splitlines():
            if "apt-key" not in line:
                continue
            is_doc = name.endswith((".md", ".rst")) or line.strip().startswith(("#", "//", "*", '"'))
            if not (is_doc and warns(line)):
                offenders.append(f"{name}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
