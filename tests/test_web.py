"""The web page's handlers through aiohttp's test client, over a real database (SQLite and
PostgreSQL): signing in by the bot's link (once, for ten minutes, by a same-site press),
sessions (idle expiry, sign-out, a revoked person's end), CSRF, every role against every
page, what a head may and may not see, reviewing a nomination, the downloads."""

from __future__ import annotations

import csv
import io
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.domain import (
    ROLE_ADMIN,
    ROLE_CHAIR,
    ROLE_HEAD,
    ROLE_OFFICER,
    ROLE_SECRETARIAT,
    Identity,
    Person,
)
from bot.messages import Incoming
from bot.plan.model import Criterion, Grade, Plan, Scoring
from handlers.conversation import Conversations
from handlers.nominations import NominationDesk
from scheduler.jobs import Jobs
from storage.repository import Storage
from tests import engines
from tests.conftest import FakeClock
from tests.test_process import thidua, thidua_env
from tests.test_process_channels import free_port
from web import pages
from web.server import HEADERS, SESSION_COOKIE, WebPage
from web.signin import WebLinks, token_hash

BASE = "http://127.0.0.1:8080"
SECRET_NOMINEE = "Bà Hoàng Thị Kín"  # nominated by the head of Thôn 2


@pytest.fixture(scope="module")
def plan(small_plan: Plan) -> Plan:
    return replace(
        small_plan,
        scoring=Scoring(
            criteria=(
                Criterion(
                    "dien", "Điện lưới", Decimal(10), indicator="ty_le_dien", zero_at=Decimal(80)
                ),
                Criterion("dung_han", "Báo cáo đúng hạn", Decimal(15), measure="on_time"),
            ),
            grades=(Grade("Khá", at_least=Decimal(10)), Grade("Chưa hoàn thành")),
        ),
    )


@dataclass
class Site:
    plan: Plan
    storage: Storage
    clock: FakeClock
    client: TestClient[Any, Any]
    links: WebLinks
    people: dict[str, Person]
    nominations: dict[str, int]

    async def link(self, who: str, target: str = "/") -> str:
        """A new sign-in link's path, as ``/web`` makes it."""
        async with self.storage.transaction() as tx:
            url = await self.links.link(tx, self.people[who], self.clock(), target)
        assert url.startswith(BASE + "/vao/")
        return url.removeprefix(BASE)

    async def sign_in(self, who: str, target: str = "/") -> ClientResponse:
        """Open a link and press its button, as a new browser (no cookie)."""
        self.client.session.cookie_jar.clear()
        path = await self.link(who, target)
        page = await self.client.get(path)
        assert page.status == 200, await page.text()
        nonce = re.search(r'name="nonce" value="([^"]+)"', await page.text())
        assert nonce is not None
        return await self.client.post(path, data={"nonce": nonce[1]}, allow_redirects=False)

    async def as_(self, who: str) -> None:
        pressed = await self.sign_in(who)
        assert pressed.status == 303

    async def csrf(self, path: str = "/") -> str:
        found = re.search(
            r'name="csrf" value="([^"]+)"', await (await self.client.get(path)).text()
        )
        assert found is not None
        return found[1]


@pytest.fixture
async def site(plan: Plan, storage: Storage, clock: FakeClock) -> AsyncIterator[Site]:
    now = clock()
    people: dict[str, Person] = {}
    async with storage.transaction() as tx:
        for key, name, role, village in (
            ("head", "Trưởng thôn Một", ROLE_HEAD, "thon_1"),
            ("head2", "Trưởng thôn Hai", ROLE_HEAD, "thon_2"),
            ("secretariat", "Cán bộ Thường trực", ROLE_SECRETARIAT, None),
            ("chair", "Chủ tịch Hội đồng", ROLE_CHAIR, None),
            ("admin", "Quản trị", ROLE_ADMIN, None),
            ("officer", "Cán bộ xã", ROLE_OFFICER, None),
        ):
            person = await tx.create_person(name, role, village, "vi", now)
            await tx.add_identity(
                person.id, Identity("telegram", f"u{person.id}", f"c{person.id}"), now
            )
            people[key] = await tx.person(person.id)  # type: ignore[assignment]
        await tx.add_report(
            "thon_1",
            "thang",
            "2026-11",
            {"tong_ho": 120, "ho_co_dien": 117, "thu_gom_rac": True, "loai": "Thôn văn hóa"},
            people["head"].id,
            now - timedelta(days=2),
        )
        await tx.add_report(
            "thon_2",
            "thang",
            "2026-11",
            {"tong_ho": 4321, "ho_co_dien": 4000, "thu_gom_rac": False, "loai": "Chưa đạt"},
            people["head2"].id,
            now - timedelta(days=1),
        )
        own = await tx.add_nomination(
            people["head"].id, "Ông Ba Tốt", "thon_1", "Sửa đường", "Cá nhân", [], 2026, now
        )
        other = await tx.add_nomination(
            people["head2"].id, SECRET_NOMINEE, "thon_2", "Hiến đất", "Cá nhân", [], 2026, now
        )
    links = WebLinks(BASE)
    page = WebPage(plan, storage, clock, links, NominationDesk(plan))
    client: TestClient[Any, Any] = TestClient(TestServer(page.application()))
    await client.start_server()
    try:
        yield Site(plan, storage, clock, client, links, people, {"own": own.id, "other": other.id})
    finally:
        await client.close()


# -- signing in ---------------------------------------------------------------------------


async def test_a_link_shows_one_button_and_its_press_signs_in_once(site: Site) -> None:
    path = await site.link("secretariat")
    for _ in range(2):  # a chat app's link preview fetches it: nothing is used up
        shown = await site.client.get(path)
        assert shown.status == 200
        assert "Đăng nhập" in await shown.text() and "Cán bộ Thường trực" in await shown.text()
    nonce = re.search(r'name="nonce" value="([^"]+)"', await shown.text())
    assert nonce is not None
    pressed = await site.client.post(path, data={"nonce": nonce[1]}, allow_redirects=False)
    assert pressed.status == 303 and pressed.headers["Location"] == "/"
    cookie = pressed.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Secure" not in session
    overview = await site.client.get("/")
    assert overview.status == 200 and "Tổng quan" in await overview.text()
    again = await site.client.post(path, data={"nonce": nonce[1]}, allow_redirects=False)
    assert again.status == 410 and "chỉ dùng được một lần" in await again.text()
    async with site.storage.reading() as tx:  # only the token's hash is kept
        token = path.removeprefix("/vao/")
        assert await tx.web_link(token) is None
        stored = await tx.web_link(token_hash(token))
        assert stored is not None and stored.used_at == site.clock()


async def test_a_link_expires_after_ten_minutes(site: Site) -> None:
    path = await site.link("chair")
    site.clock.advance(minutes=9, seconds=59)
    assert (await site.client.get(path)).status == 200
    site.clock.advance(seconds=1)
    expired = await site.client.get(path)
    assert expired.status == 410 and "hết hạn" in await expired.text()
    pressed = await site.client.post(path, data={"nonce": "x"}, allow_redirects=False)
    assert pressed.status == 410 and SESSION_COOKIE not in pressed.cookies


async def test_a_forged_link_and_a_press_without_the_browsers_nonce_are_refused(
    site: Site,
) -> None:
    forged = await site.client.get("/vao/abcdefghijklmnopqrstuvwxyz0123456789")
    assert forged.status == 404 and "không đúng" in await forged.text()
    path = await site.link("admin")
    assert (await site.client.get(path)).status == 200
    # A press that did not come from the page the browser opened (another site's form,
    # which carries no SameSite=Strict cookie) is refused and leaves the link usable.
    site.client.session.cookie_jar.clear()
    refused = await site.client.post(path, data={"nonce": "guess"}, allow_redirects=False)
    assert refused.status == 403 and "không có gì thay đổi" in await refused.text()
    other_site = await site.client.post(
        path, data={"nonce": "guess"}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    assert (await site.sign_in("admin")).status == 303


async def test_the_session_cookie_is_secure_behind_https(
    plan: Plan, storage: Storage, clock: FakeClock, site: Site
) -> None:
    links = WebLinks("https://thidua.example.vn")
    page = WebPage(plan, storage, clock, links, NominationDesk(plan))
    client: TestClient[Any, Any] = TestClient(TestServer(page.application()))
    await client.start_server()
    try:
        async with storage.transaction() as tx:
            url = await links.link(tx, site.people["chair"], clock())
        path = url.removeprefix("https://thidua.example.vn")
        shown = await client.get(path)
        nonce_cookie = shown.headers["Set-Cookie"]
        assert "Secure" in nonce_cookie and "SameSite=Strict" in nonce_cookie
        nonce = re.search(r'name="nonce" value="([^"]+)"', await shown.text())
        assert nonce is not None
        # the client keeps no Secure cookie over http: give it back by hand
        pressed = await client.post(
            path,
            data={"nonce": nonce[1]},
            cookies={"thidua_vao": nonce[1]},
            allow_redirects=False,
        )
        assert pressed.status == 303
        session = next(
            c for c in pressed.headers.getall("Set-Cookie") if c.startswith(SESSION_COOKIE)
        )
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session
    finally:
        await client.close()


async def test_a_session_ends_after_eight_idle_hours_and_lives_while_used(site: Site) -> None:
    await site.as_("secretariat")
    site.clock.advance(hours=7, minutes=59)
    assert (await site.client.get("/")).status == 200  # used: the idle spell starts again
    site.clock.advance(hours=7, minutes=59)
    assert (await site.client.get("/chi-tieu")).status == 200
    site.clock.advance(hours=8)
    ended = await site.client.get("/")
    assert ended.status == 401 and "/web" in await ended.text()


async def test_a_revoked_persons_session_and_links_end(site: Site) -> None:
    await site.as_("head")
    path = await site.link("head")
    assert (await site.client.get("/")).status == 200
    async with site.storage.transaction() as tx:
        assert await tx.revoke_person(site.people["head"].id, site.clock())
    assert (await site.client.get("/")).status == 401
    refused = await site.client.get(path)
    assert refused.status == 403 and "thu hồi" in await refused.text()


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    await site.as_("chair")
    refused = await site.client.post("/dang-xuat", data={"csrf": "wrong"})
    assert refused.status == 403
    assert (await site.client.get("/")).status == 200
    done = await site.client.post("/dang-xuat", data={"csrf": await site.csrf()})
    assert done.status == 200 and "Đã đăng xuất" in await done.text()
    assert (await site.client.get("/")).status == 401


async def test_pages_say_how_to_sign_in_and_carry_the_security_headers(site: Site) -> None:
    for path in ("/", "/chi-tieu", "/thon/thon_1", "/de-cu", "/tai-ve/2026-11.xlsx"):
        signed_out = await site.client.get(path)
        assert signed_out.status == 401, path
        assert "Gõ /web" in await signed_out.text()
    await site.as_("secretariat")
    page = await site.client.get("/")
    for name, value in HEADERS.items():
        assert page.headers[name] == value
    missing = await site.client.get("/khong-co")
    assert missing.status == 404 and "Không có trang này" in await missing.text()


# -- every role against every page --------------------------------------------------------

PAGES = (
    "/",
    "/chi-tieu",
    "/thon",
    "/thon/thon_1",
    "/thon/thon_2",
    "/thi-dua",
    "/de-cu",
    "/de-cu/own",
    "/de-cu/other",
    "/tai-ve",
    "/tai-ve/2026-11.xlsx",
    "/tai-ve/2026-11.csv",
    "/tong-hop",
    "/tong-hop/bang-tinh.xlsx",
)
# What each role gets: the officers see the commune; a head their village and their own
# nominations (another's is as unknown as a missing one); a commune officer the commune.
EXPECTED = {
    "head": {"/thon": 303, "/thon/thon_2": 403, "/de-cu/other": 404, "/tong-hop": 403,
             "/tong-hop/bang-tinh.xlsx": 403},
    "officer": {"/thon": 303, "/thon/thon_1": 403, "/thon/thon_2": 403, "/de-cu/own": 404,
                "/de-cu/other": 404, "/tong-hop": 403, "/tong-hop/bang-tinh.xlsx": 403},
    "secretariat": {},
    "chair": {},
    "admin": {},
}  # fmt: skip


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_every_role_against_every_page(site: Site, role: str) -> None:
    await site.as_(role)
    for page in PAGES:
        path = page.replace("own", str(site.nominations["own"])).replace(
            "other", str(site.nominations["other"])
        )
        response = await site.client.get(path, allow_redirects=False)
        assert response.status == EXPECTED[role].get(page, 200), (role, page)
        if response.status == 200 and response.content_type == "text/html":
            text = await response.text()
            assert "thidua" in text
            if role in ("head", "officer"):
                assert SECRET_NOMINEE not in text, page


async def test_a_head_sees_their_village_only(site: Site) -> None:
    await site.as_("head")
    overview = await (await site.client.get("/")).text()
    assert "Thôn 1" in overview and "117" in overview  # the numbers they reported
    assert "Thôn 2" not in overview and "4.321" not in overview
    village = await (await site.client.get("/thon/thon_1")).text()
    assert "Trưởng thôn Một" in village and "Trưởng thôn Hai" not in village
    board = await (await site.client.get("/thi-dua")).text()
    assert "Thôn 1" in board and "Thôn 2" not in board
    mine = await (await site.client.get("/de-cu")).text()
    assert "Ông Ba Tốt" in mine and SECRET_NOMINEE not in mine
    book = openpyxl.load_workbook(
        io.BytesIO(await (await site.client.get("/tai-ve/2026-11.xlsx")).read())
    )
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value}
    assert "Thôn 1" in cells and "Thôn 2" not in cells and "4321" not in cells and "120" in cells
    assert not any("Đề cử" == sheet.title for sheet in book)
    text = (await (await site.client.get("/tai-ve/2026-11.csv")).read()).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 2 and "Thôn 1" in rows[1] and "Thôn 2" not in text


async def test_the_secretariat_sees_the_commune(site: Site) -> None:
    await site.as_("secretariat")
    overview = await (await site.client.get("/")).text()
    assert "Thôn 1" in overview and "Thôn 2" in overview and "Thôn 3" in overview
    assert "4.321" in overview and "117" in overview
    # Thôn 3: October missing, November not yet due; by symbol and words as well as colour
    assert "✗</span> Chưa gửi, đã quá hạn" in overview
    assert "…</span> Chưa gửi, chưa đến hạn" in overview
    assert "Chưa gửi, đã quá hạn: 3" in overview and "Đúng hạn: 2" in overview
    listing = await (await site.client.get("/de-cu")).text()
    assert SECRET_NOMINEE in listing and "Ông Ba Tốt" in listing
    indicators = await (await site.client.get("/chi-tieu")).text()
    assert "<svg" in indicators and "Tỷ lệ hộ dùng điện lưới" in indicators
    book = openpyxl.load_workbook(
        io.BytesIO(await (await site.client.get("/tai-ve/2026-11.xlsx")).read())
    )
    assert any(sheet.title == "Đề cử" for sheet in book)
    bad = await site.client.get("/tai-ve/2026-13.xlsx")
    assert bad.status == 404


async def test_a_villages_page_shows_every_version_with_what_changed(site: Site) -> None:
    async with site.storage.transaction() as tx:
        await tx.add_report(
            "thon_1",
            "thang",
            "2026-11",
            {"tong_ho": 120, "ho_co_dien": 119, "thu_gom_rac": True, "loai": "Thôn văn hóa"},
            site.people["head"].id,
            site.clock(),
        )
    await site.as_("chair")
    page = await (await site.client.get("/thon/thon_1")).text()
    assert "Lần 2" in page and "Lần 1" in page
    assert re.search(r"Hộ có điện: <del>117 hộ</del> → <ins>119 hộ</ins>", page)


# -- reviewing a nomination ----------------------------------------------------------------


async def test_the_secretariat_reviews_with_the_chats_rules_and_the_nominator_is_told(
    site: Site,
) -> None:
    await site.as_("secretariat")
    number = site.nominations["other"]
    page = await (await site.client.get(f"/de-cu/{number}")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None and "Ghi nhận" in page
    forged = await site.client.post(
        f"/de-cu/{number}", data={"action": "accept", "status": "review", "csrf": "x"}
    )
    assert forged.status == 403
    no_words = await site.client.post(
        f"/de-cu/{number}", data={"action": "ask", "status": "review", "csrf": csrf[1]}
    )
    assert no_words.status == 409 and "Xin gõ nội dung" in await no_words.text()
    too_long = await site.client.post(
        f"/de-cu/{number}",
        data={"action": "ask", "status": "review", "csrf": csrf[1], "words": "x" * 1001},
    )
    assert too_long.status == 409 and "tối đa 1.000 ký tự" in await too_long.text()
    done = await site.client.post(
        f"/de-cu/{number}", data={"action": "accept", "status": "review", "csrf": csrf[1]}
    )
    assert done.status == 200 and "Đã cập nhật đề cử" in await done.text()
    stale = await site.client.post(
        f"/de-cu/{number}", data={"action": "accept", "status": "review", "csrf": csrf[1]}
    )
    assert stale.status == 409  # the page was older than the nomination: nothing twice
    async with site.storage.reading() as tx:
        nomination = await tx.nomination(number)
        events = await tx.nomination_events(number)
        told = await tx.outbox("nomination:")
    assert nomination is not None and nomination.status == "phat_hien"
    assert [e.action for e in events] == ["sent", "accepted"]
    assert [m["person_id"] for m in told] == [site.people["head2"].id]


async def test_a_head_cannot_review_even_by_a_forged_form(site: Site) -> None:
    await site.as_("head")
    csrf = await site.csrf()
    own = site.nominations["own"]
    page = await (await site.client.get(f"/de-cu/{own}")).text()
    assert "Xét đề cử" not in page
    refused = await site.client.post(
        f"/de-cu/{own}", data={"action": "accept", "status": "review", "csrf": csrf}
    )
    assert refused.status == 409 and "không có quyền" in await refused.text()
    other = await site.client.post(
        f"/de-cu/{site.nominations['other']}",
        data={"action": "accept", "status": "review", "csrf": csrf},
    )
    assert other.status == 404
    async with site.storage.reading() as tx:
        assert [e.action for e in await tx.nomination_events(own)] == ["sent"]


# -- the links the bot sends ------------------------------------------------------------------


async def test_the_web_command_sends_a_link_that_signs_in(site: Site, plan: Plan) -> None:
    conversations = Conversations(plan, site.storage, site.clock)
    head = site.people["head"]
    said = await conversations.handle(
        Incoming("telegram", f"u{head.id}", f"c{head.id}", "text", "/web")
    )
    assert "chưa được bật" in said.replies[0].text
    conversations.web = site.links
    said = await conversations.handle(
        Incoming("telegram", f"u{head.id}", f"c{head.id}", "text", "/web")
    )
    url = re.search(r"http://\S+", said.replies[0].text)
    assert url is not None and "10 phút" in said.replies[0].text
    site.client.session.cookie_jar.clear()
    path = url[0].removeprefix(BASE)
    shown = await site.client.get(path)
    nonce = re.search(r'name="nonce" value="([^"]+)"', await shown.text())
    assert nonce is not None and "Trưởng thôn Một" in await shown.text()
    pressed = await site.client.post(path, data={"nonce": nonce[1]})
    assert pressed.status == 200 and "Thôn 1" in await pressed.text()


async def test_each_digest_carries_a_fresh_link_to_its_page(site: Site, plan: Plan) -> None:
    jobs = Jobs(plan, site.storage, site.clock, web=site.links)
    officers = await jobs.digest_now()
    assert {p.role for p in officers} == {ROLE_SECRETARIAT, ROLE_CHAIR}
    later = site.clock() + timedelta(minutes=5)
    async with site.storage.transaction() as tx:
        claimed = await tx.claim_messages("t", site.clock(), later, ["telegram"], 10)
    texts = [m.replies[0].text for m in claimed if m.key.startswith("digest-now:")]
    assert len(texts) == 2
    found = [re.search(r"http://\S+/vao/\S+", text) for text in texts]
    assert all(found) and len({f[0] for f in found if f}) == 2  # one link each
    path = found[0][0].removeprefix(BASE)  # type: ignore[index]
    site.client.session.cookie_jar.clear()
    shown = await site.client.get(path)
    nonce = re.search(r'name="nonce" value="([^"]+)"', await shown.text())
    assert nonce is not None
    pressed = await site.client.post(path, data={"nonce": nonce[1]})
    page = await pressed.text()
    assert pressed.status == 200 and "Bản tổng hợp" in page
    chart = re.search(r'src="(/tong-hop/bieu-do.png[^"]*)"', page)
    workbook = re.search(r'href="(/tong-hop/bang-tinh.xlsx[^"]*)"', page)
    assert chart is not None and workbook is not None
    png = await site.client.get(chart[1].replace("&amp;", "&"))
    assert png.status == 200 and (await png.read()).startswith(b"\x89PNG")
    book = await site.client.get(workbook[1].replace("&amp;", "&"))
    assert book.status == 200 and (await book.read()).startswith(b"PK")
    site.clock.advance(days=3)
    assert (await site.client.get(path)).status in (303, 410)


async def test_a_link_is_taken_once_when_two_presses_race(site: Site) -> None:
    path = await site.link("secretariat")
    token = path.removeprefix("/vao/")
    async with site.storage.transaction() as tx:
        first = await tx.use_web_link(token_hash(token), site.clock())
        second = await tx.use_web_link(token_hash(token), site.clock())
    assert (first, second) == (True, False)


async def test_a_person_reads_the_pages_in_their_language(site: Site) -> None:
    async with site.storage.transaction() as tx:
        await tx.set_locale(site.people["chair"].id, "en")
    await site.as_("chair")
    page = await (await site.client.get("/")).text()
    assert 'lang="en"' in page and "Overview" in page and "Not sent, past due" in page
    assert "4.321" not in page and "4,321" in page  # numbers the English way too
    refused = await site.client.get("/vao/forged-link-xyz", headers={"Accept-Language": "en"})
    assert "Invalid link" in await refused.text()


async def test_a_session_started_on_one_instance_holds_on_another(
    plan: Plan, site: Site, database_url: str
) -> None:
    """Two instances on one database (their own storage, their own web server): the link
    sent by one signs in on the other, and the session it starts holds on both."""
    other = await engines.open_url(database_url)
    page = WebPage(plan, other, site.clock, site.links, NominationDesk(plan))
    second: TestClient[Any, Any] = TestClient(TestServer(page.application()))
    await second.start_server()
    try:
        path = await site.link("secretariat")
        shown = await second.get(path)
        nonce = re.search(r'name="nonce" value="([^"]+)"', await shown.text())
        assert nonce is not None
        pressed = await second.post(path, data={"nonce": nonce[1]}, allow_redirects=False)
        assert pressed.status == 303
        cookie = pressed.cookies[SESSION_COOKIE].value
        site.client.session.cookie_jar.clear()
        first = await site.client.get("/", cookies={SESSION_COOKIE: cookie})
        assert first.status == 200 and "Cán bộ Thường trực" in await first.text()
        again = await site.client.post(path, data={"nonce": nonce[1]})
        assert again.status in (403, 410)  # spent on the other instance
    finally:
        await second.close()
        await other.close()


def test_a_port_already_taken_stops_the_bot_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=thidua_env(
                tmp_path,
                TELEGRAM_BOT_TOKEN="1:x",
                TELEGRAM_API_URL="http://127.0.0.1:9/bot",
                THIDUA_WEB_PORT=str(port),
                THIDUA_WEB_LISTEN="127.0.0.1",
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"Không mở được trang web trên cổng {port}" in done.stderr
    assert "THIDUA_WEB_PORT=off" in done.stderr


def test_the_console_gives_a_link_to_its_web_page(tmp_path: Path) -> None:
    port = free_port()
    out = thidua(tmp_path, "console", "--as", "thon 1", stdin="/web\n", THIDUA_WEB_PORT=str(port))
    link = re.search(rf"http://localhost:{port}/vao/(\S+)", out)
    assert link is not None, out
    db = sqlite3.connect(tmp_path / "thidua.db")
    try:
        [(stored,)] = db.execute("SELECT token_hash FROM web_links").fetchall()
    finally:
        db.close()
    assert stored == token_hash(link[1])


async def test_a_failing_page_says_so_in_vietnamese_and_logs_no_token(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await site.as_("secretariat")

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.pages.overview", broken)
    failed = await site.client.get("/")
    assert failed.status == 500 and "đã được ghi lại" in await failed.text()
    assert "the web page's / failed" in caplog.text and "a bug" in caplog.text

    def refusal(*args: object) -> None:
        raise RuntimeError("another bug")

    monkeypatch.setattr("web.server.link_refusal", refusal)
    path = await site.link("chair")
    assert (await site.client.get(path)).status == 500
    # (the test server's own access log is aiohttp's; `thidua run` serves without one)
    ours = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name == "web.server"
    )
    assert "/vao/{token}" in ours and path.removeprefix("/vao/") not in ours


async def test_an_indicators_trend_follows_its_periods_over_the_viewers_villages(
    site: Site, plan: Plan
) -> None:
    async with site.storage.transaction() as tx:
        await tx.add_report(
            "thon_1",
            "thang",
            "2026-10",
            {"tong_ho": 100, "ho_co_dien": 90, "thu_gom_rac": False, "loai": "Chưa đạt"},
            site.people["head"].id,
            site.clock() - timedelta(days=30),
        )

    def rounded(value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(Decimal("0.1"))

    for who, october, november in (
        ("secretariat", Decimal("90.0"), Decimal("92.7")),  # 4.117 of 4.441 households
        ("head", Decimal("90.0"), Decimal("97.5")),  # their village alone: 117 of 120
    ):
        async with site.storage.reading() as tx:
            figures = await pages.indicators(tx, plan, pages.Viewer(site.people[who]), site.clock())
        power = next(f for f in figures if f.indicator.id == "ty_le_dien")
        assert power.trend.labels[-2:] == ["tháng 10/2026", "tháng 11/2026"]
        assert [rounded(v) for v in power.trend.values[-2:]] == [october, november], who
        assert power.trend.values[:-2] == [None] * 4  # no report before October
        # the commune's 2 of 3 villages are too few for a verdict; the head's one is whole
        assert power.met is (None if who == "secretariat" else False)


async def test_a_nominations_photos_show_to_those_who_may_open_it(site: Site) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"a road mended" * 30
    async with site.storage.transaction() as tx:
        kept = await tx.store_file(photo, "image/jpeg", site.clock())
        odd = await tx.store_file(b"<script>x</script>", "text/html", site.clock())
        with_photos = await tx.add_nomination(
            site.people["head2"].id, SECRET_NOMINEE, "thon_2", "Sửa cầu", "Cá nhân",
            [kept, odd], 2026, site.clock(), captions=["Cây cầu đã sửa", ""],
        )  # fmt: skip
    path = f"/de-cu/{with_photos.id}"
    await site.as_("secretariat")
    page = await (await site.client.get(path)).text()
    assert f'src="{path}/anh/1"' in page and "Cây cầu đã sửa" in page
    first = await site.client.get(f"{path}/anh/1")
    assert first.status == 200 and await first.read() == photo
    assert first.content_type == "image/jpeg"
    second = await site.client.get(f"{path}/anh/2")  # never served as what it claims
    assert second.status == 200 and second.content_type == "image/jpeg"
    for missing in ("/anh/3", "/anh/0", "/anh/x"):
        assert (await site.client.get(path + missing)).status == 404
    await site.as_("head2")  # the nominator
    assert (await site.client.get(f"{path}/anh/1")).status == 200
    await site.as_("head")  # another head: as unknown as a missing one
    assert (await site.client.get(f"{path}/anh/1")).status == 404
