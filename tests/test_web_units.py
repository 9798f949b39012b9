"""The web page's pure parts: sign-in rules, safe redirects, the server-drawn trend chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import Person, WebLink, WebSession
from bot.i18n import use_locale
from bot.plan.model import Question, Target
from bot.reports.answers import answer_text
from web.pages import Trend
from web.signin import (
    LINK_VALID,
    SESSION_IDLE,
    link_refusal,
    new_session,
    safe_target,
    session_alive,
    token_hash,
)
from web.svg import trend_svg

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PERSON = Person(7, "Chín", "head", "thon_1", "vi", NOW)
SVG = "{http://www.w3.org/2000/svg}"


def link(**changes: object) -> WebLink:
    values: dict[str, object] = {
        "token_hash": token_hash("t"),
        "person_id": 7,
        "target": "/",
        "created_at": NOW,
        "expires_at": NOW + LINK_VALID,
    }
    values.update(changes)
    return WebLink(**values)  # type: ignore[arg-type]


def test_why_a_link_cannot_sign_in() -> None:
    assert link_refusal(link(), PERSON, NOW) is None
    assert link_refusal(None, None, NOW) == "forged"
    assert link_refusal(link(), None, NOW) == "revoked"
    revoked = Person(7, "Chín", "head", "thon_1", "vi", NOW, revoked_at=NOW)
    assert link_refusal(link(), revoked, NOW) == "revoked"
    assert link_refusal(link(used_at=NOW), PERSON, NOW) == "used"
    assert link_refusal(link(), PERSON, NOW + LINK_VALID) == "expired"
    assert link_refusal(link(), PERSON, NOW + LINK_VALID - timedelta(seconds=1)) is None


def test_a_session_holds_until_its_idle_spell_ends() -> None:
    cookie, session = new_session(7, NOW)
    assert session.id_hash == token_hash(cookie) and cookie not in session.id_hash
    assert len(cookie) >= 40 and len(session.csrf) >= 40 and session.csrf != cookie
    assert session_alive(session, PERSON, NOW + SESSION_IDLE - timedelta(seconds=1))
    assert not session_alive(session, PERSON, NOW + SESSION_IDLE)
    ended = WebSession(session.id_hash, 7, session.csrf, NOW, NOW, ended_at=NOW)
    assert not session_alive(ended, PERSON, NOW)
    assert not session_alive(session, None, NOW)


@given(st.text())
def test_a_link_never_leads_off_the_site(target: str) -> None:
    safe = safe_target(target)
    assert safe.startswith("/") and not safe.startswith("//") and "\\" not in safe


def test_safe_targets_keep_the_sites_own_paths() -> None:
    assert safe_target("/tong-hop?luc=2026") == "/tong-hop?luc=2026"
    for foreign in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"):
        assert safe_target(foreign) == "/"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def test_the_trend_chart_draws_each_period_and_leaves_gaps_where_no_data() -> None:
    trend = Trend(
        ["tháng 7/2026", "tháng 8/2026", "tháng 9/2026", "tháng 10/2026"],
        [Decimal(90), None, Decimal("97.5"), Decimal(100)],
        Target(">=", Decimal(95)),
        "%",
        "≥ 95%",
    )
    root = parse(trend_svg(trend, "Tỷ lệ hộ dùng điện lưới qua các kỳ"))
    assert root.find(f"{SVG}title").text == "Tỷ lệ hộ dùng điện lưới qua các kỳ"  # type: ignore[union-attr]
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert ["7/2026", "8/2026", "9/2026", "10/2026"] == [t for t in texts if "/20" in t]
    assert {"90%", "97,5%", "100%"} <= set(texts) and "mục tiêu ≥ 95%" in texts
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1  # 90 stands alone before the gap; 97,5 → 100 is joined
    points = root.findall(f"{SVG}circle")
    assert [p.get("class") for p in points] == ["point below", "point", "point"]
    heights = [float(p.get("cy", "0")) for p in points]
    assert heights[0] > heights[1] > heights[2]  # higher values stand higher


def test_the_trend_chart_escapes_what_it_is_given() -> None:
    trend = Trend(["<b>kỳ</b>"], [Decimal(3)], None, "hộ")
    svg = str(trend_svg(trend, 'Tên "lạ" <script>'))
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.get("aria-label") == 'Tên "lạ" <script>'
    assert not re.search(r"NaN|inf", svg)


def test_an_answer_as_a_person_reads_it() -> None:
    households = Question("tong_ho", "Bao nhiêu hộ?", "integer", "Tổng số hộ", unit="hộ")
    rice = Question("lua", "Diện tích lúa?", "decimal", "Diện tích lúa", unit="ha")
    note = Question("ghi_chu", "Ghi chú?", "text", "Ghi chú")
    assert answer_text(households, "1240") == "1.240 hộ"
    assert answer_text(households, "1240", unit=False) == "1.240"
    assert answer_text(rice, "12.5") == "12,5 ha"
    assert answer_text(households, None) == ""
    assert answer_text(None, True) == "Có" and answer_text(None, False) == "Không"
    assert answer_text(None, {"file_id": "x"}) == "(ảnh)"
    assert answer_text(note, "12.5") == "12.5"  # a text stays as typed
    assert answer_text(households, "NaN") == "NaN"  # whatever was stored, never raises
    with use_locale("en"):
        assert answer_text(households, "1240") == "1,240 hộ"
