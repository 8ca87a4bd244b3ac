"""Chinese and English: complete catalogues, the language switch, Chinese pages."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from . import flows

CATALOGUE = Path(settings.BASE_DIR, "complaints/locale/zh_Hans/LC_MESSAGES/django.po")


def entries(path: Path):
    """Yield (msgid, [msgstr...]) of a .po file, header excluded."""
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        msgid, strs, current = [], {}, None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                if current == "msgid":
                    msgid.append(match.group(2))
                elif current.startswith("msgstr"):
                    strs[current] = [match.group(2)]
            elif line.startswith('"') and current:
                (msgid if current == "msgid" else strs.setdefault(current, [])).append(line[1:-1])
        if msgid and "".join(msgid):
            yield "".join(msgid), ["".join(parts) for parts in strs.values()]


def test_the_chinese_catalogue_translates_every_string():
    untranslated = [msgid for msgid, strs in entries(CATALOGUE) if not all(strs)]
    assert untranslated == []
    # makemessages guesses a new string's translation from a similar old one
    # ("Form expired" as "Voucher expired") and marks it fuzzy; compiled
    # catalogues leave fuzzy entries out, so the page would show English.
    fuzzy = [line for line in CATALOGUE.read_text(encoding="utf-8").splitlines() if "fuzzy" in line]
    assert fuzzy == []
    assert len(list(entries(CATALOGUE))) > 400


def test_the_catalogues_hold_every_string_marked_in_the_code(tmp_path):
    for name in ("casetracker", "complaints", "templates", "manage.py"):
        source = Path(settings.BASE_DIR, name)
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("tests", "*.mo"))
        else:
            shutil.copy(source, target)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={
            "DEBUG": "1",
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "casetracker.settings",
        },
    )
    fresh = {msgid for msgid, _ in entries(tmp_path / CATALOGUE.relative_to(settings.BASE_DIR))}
    committed = {msgid for msgid, _ in entries(CATALOGUE)}
    assert fresh - committed == set(), "run makemessages and translate the new strings"


@pytest.mark.django_db
def test_the_case_page_in_chinese(client, agent, order):
    case = flows.analyzing(agent, order)
    client.force_login(agent)
    html = client.get(case.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in html
    for text in ("分析问题", "下一步", "客户", "订单", "处理记录", "提出方案", "商品问题 › 色差"):
        assert text in html, text


@pytest.mark.django_db
def test_the_language_switch_remembers_the_choice(client, agent):
    client.force_login(agent)
    queue = reverse("complaints:queue", args=["mine"])
    assert "My cases" in client.get(queue).content.decode()
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": queue})
    assert response.status_code == 302
    assert "我的工单" in client.get(queue).content.decode()
