"""The debconf templates: translatable through debian/po, and the .pot in the tree matches them."""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.support.paths import ROOT


def msgids(pot: str) -> list[str]:
    """Every msgid of a .pot file (joined continuation lines), the header's empty one left out."""
    ids, current = [], None
    for line in pot.splitlines() + [""]:
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            text = "".join(part.strip()[1:-1] for part in current)
            if text:
                ids.append(text)
            current = None
    return ids


def test_templates_pot_is_up_to_date(tmp_path):
    debian = tmp_path / "debian"
    shutil.copytree(ROOT / "debian", debian)
    subprocess.run(["debconf-updatepo"], cwd=debian, check=True, capture_output=True)
    fresh = msgids((debian / "po/templates.pot").read_text())
    assert fresh, "debconf-updatepo found no translatable text"
    assert msgids((ROOT / "debian/po/templates.pot").read_text()) == fresh, (
        "debian/po/templates.pot is stale: run debconf-updatepo in debian/"
    )


def test_every_question_is_translatable_and_control_build_depends_on_po_debconf():
    templates = (ROOT / "debian/rosey-bot.templates").read_text()
    assert "\nDescription:" not in templates, "use _Description so po-debconf extracts it"
    assert len(re.findall(r"^_Description:", templates, flags=re.M)) == templates.count("Template:")
    assert "po-debconf" in (ROOT / "debian/control").read_text()
    assert (ROOT / "debian/po/POTFILES.in").read_text().strip() == "[type: gettext/rfc822deb] rosey-bot.templates"
