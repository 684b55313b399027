"""Time to publish a release into the signed aptly repository, and the published tree's size after three.

Uses real rosey-bot-sized packages: the newest rosey-bot and rosey-monitoring .debs
under build/cache/debs (built by the test suite), or the test suite's release chain
(tests/support/e2e_releases.py) built for it; each release is that payload repacked at its own version.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VERSIONS = ("1.0.0", "1.1.0", "1.2.0")


def real_debs() -> list[Path]:
    candidates = sorted((ROOT / "build/cache/debs").glob("*/rosey-bot_*_amd64.deb"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        from tests.support.e2e_releases import V1, build_chain

        candidates = [build_chain()[V1]]
    bot = candidates[-1]
    monitoring = sorted(bot.parent.glob("rosey-monitoring_*_all.deb"))
    return [bot, *monitoring[:1]]


def repack(deb: Path, version: str, dest: Path) -> Path:
    tree = dest / f"{deb.name}-{version}"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    control = tree / "DEBIAN/control"
    lines = [f"Version: {version}" if x.startswith("Version: ") else x for x in control.read_text().splitlines()]
    control.write_text("\n".join(lines) + "\n")
    package = deb.name.split("_")[0]
    arch = deb.name.rsplit("_", 1)[1]
    out = dest / f"{package}_{version}_{arch}"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "-b", str(tree), str(out)], check=True, capture_output=True
    )
    shutil.rmtree(tree)
    return out


def du(path: Path) -> int:
    """Bytes on disk under path (following the served symlink; hard links counted once)."""
    return int(subprocess.run(["du", "-sbL", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def main() -> None:
    sources = real_debs()
    print(f"packages: {', '.join(f'{d.name} ({d.stat().st_size / 1e6:.2f} MB)' for d in sources)}")
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        tmp = Path(tmp)
        root = tmp / "r"
        try:
            for i, version in enumerate(VERSIONS):
                debs = [repack(d, version, tmp) for d in sources]
                start = time.monotonic()
                subprocess.run(
                    [str(ROOT / "repo/publish.sh"), "--root", str(root), *map(str, debs)],
                    check=True,
                    capture_output=True,
                )
                took = time.monotonic() - start
                note = " (includes generating the throwaway signing key)" if i == 0 else ""
                print(f"publish {version}: {took:.2f} s{note}")
            served = root / "apt"
            files = [p for p in served.resolve().rglob("*") if p.is_file()]
            print(f"published tree after three releases: {du(served) / 1e6:.2f} MB in {len(files)} files")
            print(f"aptly pool (every version kept): {du(root / 'aptly/pool') / 1e6:.2f} MB")
            start = time.monotonic()
            withdraw = [str(ROOT / "repo/withdraw.sh"), "--root", str(root), VERSIONS[-1]]
            subprocess.run(withdraw, check=True, capture_output=True)
            print(f"withdraw {VERSIONS[-1]}: {time.monotonic() - start:.2f} s")
        finally:
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(root / "gnupg")})


if __name__ == "__main__":
    main()
