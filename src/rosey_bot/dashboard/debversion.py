"""Debian version ordering (deb-version(7)), to tell an upgrade from a downgrade.

dpkg logs both as "upgrade"; the dashboard shows rollbacks as "downgrade".
"""

from __future__ import annotations

_DIGITS = "0123456789"


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256  # other characters sort after letters


def _compare_part(a: str, b: str) -> int:
    """dpkg's verrevcmp: alternate non-digit runs (by _order) and numeric runs."""
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and a[i] not in _DIGITS) or (j < len(b) and b[j] not in _DIGITS):
            ac = _order(a[i]) if i < len(a) and a[i] not in _DIGITS else 0
            bc = _order(b[j]) if j < len(b) and b[j] not in _DIGITS else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i, j = i + 1, j + 1
        ni = i
        while ni < len(a) and a[ni] in _DIGITS:
            ni += 1
        nj = j
        while nj < len(b) and b[nj] in _DIGITS:
            nj += 1
        x, y = int(a[i:ni] or 0), int(b[j:nj] or 0)
        if x != y:
            return -1 if x < y else 1
        i, j = ni, nj
    return 0


def _split(v: str) -> tuple[int, str, str]:
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as version ``a`` sorts before, equal to or after ``b``."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)
