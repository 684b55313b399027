"""Where the tests keep what outlives one run (caches) and the checkout itself."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "cache"
CACHE.mkdir(parents=True, exist_ok=True)
