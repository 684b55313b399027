"""Package size and build time, measured on this machine.

- size of our .deb against a default dh-virtualenv build of the same tree and
  dependencies (plain `dh_virtualenv --builtin-venv`, pip from the index, no trimming);
- cold build (empty wheelhouse: wheels downloaded) and warm build (wheelhouse
  present: offline) of our package.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import releases

DEFAULT_RULES = """#!/usr/bin/make -f
%:
\tdh $@ --with python-virtualenv
override_dh_auto_configure:
override_dh_virtualenv:
\tdh_virtualenv -prosey-bot --builtin-venv --python /usr/bin/python3
"""


def clone(dest: Path) -> Path:
    tree = releases.clone_working_tree(dest)
    releases.commit(tree, "bench")
    return tree


def build(tree: Path, out: Path, wheelhouse: Path) -> tuple[float, Path]:
    env = {**releases.BUILD_ENV, "ROSEY_WHEELHOUSE": str(wheelhouse)}
    start = time.monotonic()
    subprocess.run([str(tree / "packaging/build.sh"), str(out), str(tree)], check=True, env=env, capture_output=True)
    return time.monotonic() - start, next(out.glob("rosey-bot_*.deb"))


def default_build(tree: Path) -> Path:
    (tree / "debian/rules").write_text(DEFAULT_RULES)
    for f in ("rosey-bot.links", "rosey-bot.manpages"):
        (tree / "debian" / f).unlink(missing_ok=True)
    subprocess.run(["sh", "-c", f"packaging/gen-changelog.sh 0.0.0 {tree}"], cwd=tree, check=True)
    subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, check=True, capture_output=True)
    return next(tree.parent.glob("rosey-bot_*.deb"))


def installed_size(deb: Path) -> int:
    return int(subprocess.run(["dpkg-deb", "-f", str(deb), "Installed-Size"], capture_output=True, text=True).stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours_tree = clone(tmp / "ours")
        cold_t, ours = build(ours_tree, tmp / "out-cold", tmp / "empty-wheelhouse")
        warm_t, _ = build(ours_tree, tmp / "out-warm", tmp / "empty-wheelhouse")
        default = default_build(clone(tmp / "default"))
        a, b = ours.stat().st_size, default.stat().st_size
        print(f"package: ours {a / 1e6:.2f} MB (.deb), installed {installed_size(ours) / 1024:.1f} MiB")
        print(
            f"package: default dh-virtualenv {b / 1e6:.2f} MB (.deb), "
            f"installed {installed_size(default) / 1024:.1f} MiB"
        )
        print(
            f"package: size ratio ours/default = {a / b:.3f} (.deb), "
            f"{installed_size(ours) / installed_size(default):.3f} (installed)"
        )
        print(f"build: cold (wheels downloaded) {cold_t:.1f} s, warm (offline wheelhouse) {warm_t:.1f} s")


if __name__ == "__main__":
    main()
