"""The web page in a real Chromium, at a phone's width, against a real ``thidua run``
process whose chat is the Telegram stand-in: the secretariat signs in through the link the
bot sent, finds the numbers a head just reported, opens the village's history, reviews the
head's nomination (and the head is told in the chat), downloads the workbook; the head is
refused another village's page. Screenshots are kept in ``screenshots/``."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web

from tests import browser
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn, SimUser
from tests.test_process import NO_JOBS, plan_file, start_bot, thidua
from tests.test_process_channels import free_port, texts


@pytest.fixture(autouse=True)
def _chromium() -> None:
    browser.chromium()  # skipped (or failed, in CI) before any process starts


@asynccontextmanager
async def chat_web_client(link: str) -> AsyncIterator[str]:
    """A page on another site (``localhost``, where the bot's page is on ``127.0.0.1``)
    showing the link the way a chat's web client does: it opens in a new tab."""

    async def chat(request: web.Request) -> web.Response:
        html = f'<!doctype html><a href="{link}" target="_blank" rel="noopener">Mở trang thidua</a>'
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://localhost:{port}/"
    finally:
        await runner.cleanup()


def link_in(messages: list[dict[str, Any]], base: str) -> str:
    found = re.search(re.escape(base) + r"/vao/\S+", texts(messages))
    assert found is not None, texts(messages)
    return found[0]


async def web_link(person: SimUser, base: str) -> str:
    """What a person gets for ``/web``: the link in the bot's answer."""
    return link_in(await person.say("/web", timeout=10), base)


async def sign_in(page: Any, link: str, name: str) -> None:
    await page.goto(link)
    await browser.screenshot(page, f"{name}-dang-nhap")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_load_state()


SCORING = """
scoring:
  criteria:
    - {id: dien, title: Hộ dùng điện lưới, indicator: ty_le_dien, points: 10, zero_at: 80}
    - {id: dung_han, title: Báo cáo đúng hạn, measure: on_time, points: 10}
  grades:
    - {name: Tốt, at_least: 80}
    - {name: Chưa hoàn thành}
"""


async def test_the_secretariats_day_in_a_browser(tmp_path: Path, standin: BotApiStandIn) -> None:
    text = SMALL_PLAN.read_text(encoding="utf-8") + SCORING
    plan = str(plan_file(tmp_path, NO_JOBS, text=text, name="plan-scored.yaml"))
    head_code = thidua(tmp_path, "invite", "--village", "Thôn 2", PLAN_FILE=plan)
    head_code = head_code.strip().splitlines()[-1]
    secretariat_code = thidua(tmp_path, "invite", "--role", "secretariat", PLAN_FILE=plan)
    secretariat_code = secretariat_code.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    standin.mark = len(standin.requests)
    bot = await start_bot(
        tmp_path,
        standin,
        PLAN_FILE=plan,
        THIDUA_WEB_PORT=str(port),
        THIDUA_WEB_URL=base,
        THIDUA_LOG_LEVEL="INFO",
    )
    head = standin.user(901, "Chín")
    secretariat = standin.user(902, "Mười")
    try:
        assert "Thôn 2" in texts(await head.say(f"/start {head_code}", timeout=10))
        await secretariat.say(f"/start {secretariat_code}", timeout=10)
        # The head reports, numbers typed the Vietnamese way.
        await head.say("/baocao")
        await head.press(head.last_buttons()[1][1])  # the current period
        await head.say("1.234")
        await head.say("1.200")
        await head.press(head.button("Có"))
        await head.say("12,5")
        await head.say("chua dat")
        await head.say("Không có gì thêm")
        assert "Đã nhận" in texts(await head.press(head.button("Gửi")))
        # … and nominates a good deed.
        await head.say("/detcu")
        await head.say("Bà Y Lan")
        await head.press(head.button("Thôn 2"))
        await head.say("Bà dạy chữ miễn phí cho trẻ em trong thôn.")
        await head.press(head.button("Từ thiện nhân đạo"))
        await head.press(head.button("Bỏ qua"))  # no photo
        receipt = texts(await head.press(head.button("Gửi")))
        number = re.search(r"ĐC-\d{4}-\d{4}", receipt)
        assert number is not None, receipt

        async with browser.phone_browser() as context:
            desk = await context()
            page = await desk.new_page()
            await sign_in(page, await web_link(secretariat, base), "thuong-truc")
            # The period × village table: the head's numbers, in Vietnamese form.
            row = page.locator("table.values tr", has_text="Thôn 2")
            await row.wait_for()
            assert "1.234" in await row.inner_text() and "1.200" in await row.inner_text()
            status = page.locator("table.status tr", has_text="Thôn 2")
            assert "Đúng hạn" in await status.inner_text()
            missing = page.locator("table.status tr", has_text="Thôn 1")
            # October is past due, November's day (the 25th) not yet come
            said = await missing.inner_text()
            assert "✗ Chưa gửi, đã quá hạn" in said and "… Chưa gửi, chưa đến hạn" in said
            await browser.screenshot(page, "thuong-truc-tong-quan")
            wide = await context(phone=False, storage_state=await desk.storage_state())
            desktop = await wide.new_page()  # the same session, on a desktop's screen
            await desktop.goto(base + "/")
            assert "1.234" in await desktop.locator("table.values").inner_text()
            await browser.screenshot(desktop, "thuong-truc-tong-quan-may-tinh")
            await wide.close()

            await page.get_by_role("link", name="Chỉ tiêu").click()
            assert await page.locator("svg.trend").count() >= 1
            await browser.screenshot(page, "thuong-truc-chi-tieu")

            # The village's history.
            await page.get_by_role("link", name="Thôn", exact=True).click()
            await page.get_by_role("link", name="Thôn 2").click()
            history = await page.locator("main").inner_text()
            assert "Lần 1" in history and "Tổng số hộ" in history and "1.234" in history
            await browser.screenshot(page, "thuong-truc-thon")

            # The year's board, each criterion with the data behind it.
            await page.get_by_role("link", name="Thi đua").click()
            scored = page.locator("section.village-score", has_text="Thôn 2")
            assert "1.200/1.234" in await scored.inner_text()
            await browser.screenshot(page, "thuong-truc-thi-dua")

            # Review the nomination: the head is told in the chat.
            await page.get_by_role("link", name="Đề cử").first.click()
            await page.get_by_role("link", name=re.compile(number[0])).click()
            told_before = len(head.messages)
            await page.get_by_role("button", name="Ghi nhận").click()
            await page.locator(".said.ok").wait_for()
            assert "Phát hiện" in await page.locator("h1").inner_text()
            await browser.screenshot(page, "thuong-truc-de-cu")
            told = await standin.wait_messages(901, 1, told_before, timeout=10)
            assert number[0] in texts(told) and "Phát hiện" in texts(told)

            # The digest's page: its text, and its chart drawn in the page.
            await page.get_by_role("link", name="Tổng hợp").click()
            await page.wait_for_load_state("load")  # the images too
            chart = page.locator("figure img")
            assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")
            assert "Thôn 2" in await page.locator(".digest").inner_text()
            await browser.screenshot(page, "thuong-truc-tong-hop")

            # Download the workbook of the month.
            await page.get_by_role("link", name="Tải về").click()
            await browser.screenshot(page, "thuong-truc-tai-ve")
            async with page.expect_download() as waiting:
                await page.get_by_role("link", name="Bảng tính XLSX").first.click()
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
            values = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
            assert 1234 in values and "Thôn 2" in values

            # The head: their own village, and refused another's page.
            own = await context()
            mine = await own.new_page()
            head_link = await web_link(head, base)
            # … tapped in a chat's web client, another site: a cross-site navigation, then
            # the same-site press that signs in.
            async with chat_web_client(head_link) as chat:
                await mine.goto(chat)
                async with own.expect_page() as opened:
                    await mine.get_by_role("link", name="Mở trang thidua").click()
                tab = await opened.value
                await tab.wait_for_load_state()
                await browser.screenshot(tab, "truong-thon-dang-nhap")
                await tab.get_by_role("button", name="Đăng nhập").click()
                await tab.wait_for_load_state()
            await mine.close()
            mine = tab
            overview = await mine.locator("main").inner_text()
            assert "Thôn 2" in overview and "Thôn 1" not in overview
            await browser.screenshot(mine, "truong-thon-tong-quan")
            refused = await mine.goto(f"{base}/thon/thon_1")
            assert refused is not None and refused.status == 403
            assert "thôn khác" in await mine.locator("main").inner_text()
            await browser.screenshot(mine, "truong-thon-bi-tu-choi")
            # The link they used is spent: opened again in a new browser, it says so.
            await own.clear_cookies()
            spent = await mine.goto(head_link)
            assert spent is not None and spent.status == 410
            assert "đã được dùng" in await mine.locator("main").inner_text()
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 20)
    assert bot.returncode == 0
    assert not standin.violations
    assert bot.stderr is not None
    log = (await bot.stderr.read()).decode()
    assert f"the web page is served on 0.0.0.0:{port}" in log
    assert head_link.rsplit("/", 1)[1] not in log  # no access log: a link's path is its token
