# ruff: noqa: ASYNC109  (the waiting helpers take a per-call `timeout`, like the stand-ins')
"""Real ``thidua run`` processes against the channel stand-ins: a platform that cannot be
reached at start, configuration errors, ``kill -9`` right after a webhook's 200, and two
processes on one database."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app.bootstrap import RECONNECT
from bot.domain import Identity
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn
from tests.standin.zalo import ZaloApiStandIn, zalo_id
from tests.test_process import NOW, plan_file, spawn_run, start_bot, thidua

PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of the village road" * 40
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound for a moment, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", m.get("caption", ""))) for m in messages)


async def eventually(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``predicate()`` holds, looking every 20 ms (for what no stand-in sees)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Run:
    """A running ``thidua run`` whose stderr (its log) is read line by line as it comes, so
    the pipe never fills and a test can wait for a line."""

    def __init__(self, process: asyncio.subprocess.Process, started: float | None = None) -> None:
        self.process = process
        self.started = time.monotonic() if started is None else started  # when it was spawned
        self.lines: list[tuple[float, str]] = []  # (monotonic time read, line)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, tmp_path: Path, **env: str) -> Run:
        return cls(await spawn_run(tmp_path, **env))

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))

    @property
    def log(self) -> str:
        return "\n".join(line for _at, line in self.lines)

    def warnings(self, about: str) -> list[str]:
        """The WARNING lines that mention ``about`` (case ignored)."""
        return [line for _at, line in self.warned(about)]

    def warned(self, about: str) -> list[tuple[float, str]]:
        """The WARNING lines that mention ``about``, with the seconds since the start."""
        return [
            (at - self.started, line)
            for at, line in self.lines
            if " WARNING " in line and about.lower() in line.lower()
        ]

    async def wait_line(self, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for _at, line in self.lines:
                if needle in line:
                    return line
            if time.monotonic() > deadline or self._reader.done():
                raise AssertionError(f"no log line with {needle!r}; log:\n{self.log[-3000:]}")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await self._reader

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 20)
        await self._reader
        assert self.process.returncode is not None
        return self.process.returncode


async def add_person(
    tmp_path: Path, name: str, role: str, village: str | None, identity: Identity
) -> None:
    """Someone registered (as an invite code would) straight in the database."""
    store = await SqliteStorage.open(tmp_path / "thidua.db")
    try:
        async with store.transaction() as tx:
            person = await tx.create_person(name, role, village, "vi", NOW)
            await tx.add_identity(person.id, identity, NOW)
    finally:
        await store.close()


def unsent(tmp_path: Path, channel: str) -> list[str]:
    """The keys of the messages waiting in the outbox for ``channel``."""
    db = sqlite3.connect(tmp_path / "thidua.db")
    try:
        rows = db.execute(
            "SELECT key FROM outbox WHERE channel = ? AND sent_at IS NULL AND failed_at IS NULL",
            (channel,),
        ).fetchall()
    finally:
        db.close()
    return [key for (key,) in rows]


def unapplied_events(tmp_path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(tmp_path / "thidua.db")
    try:
        rows = db.execute(
            "SELECT channel, update_key FROM inbox WHERE applied_at IS NULL"
        ).fetchall()
    finally:
        db.close()
    return [(channel, key) for channel, key in rows]


# -- a platform that cannot be reached at start -----------------------------------------------


async def test_telegram_unreachable_at_start_zalo_serves_and_telegram_catches_up(
    tmp_path: Path,
) -> None:
    """Telegram cannot be reached when the bot starts (nothing listens at its address): the
    bot still serves Zalo (a head registers with an invite code and is answered), says so
    in one WARNING line with no traceback, keeps what is meant for Telegram (the digest to
    the secretariat) in the outbox, and once Telegram is back it connects by itself within
    its reconnect back-off and delivers that digest, exactly once."""
    code = thidua(tmp_path, "invite", "--village", "Thôn 1").strip().splitlines()[-1]
    await add_person(tmp_path, "Chị Thư", "secretariat", None, Identity("telegram", "2001", "2001"))
    telegram = BotApiStandIn(port=free_port())  # not started: nothing listens there yet
    async with ZaloApiStandIn() as zalo:
        zalo.poll_cap = 0.5
        bot = await Run.spawn(
            tmp_path,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.base_url,
            TELEGRAM_RATE_LIMIT="0",
            ZALO_BOT_TOKEN=zalo.token,
            ZALO_API_URL=zalo.base_url,
            THIDUA_LOG_LEVEL="INFO",
        )
        try:
            head = zalo.user(zalo_id(7001), "Anh Ba")
            welcome = await head.say(code, timeout=10)
            assert "Thôn 1" in welcome[0]["text"], bot.log
            menu = await head.say("/baocao")
            assert "1. Kỳ tháng 10/2026 (trễ hạn)" in menu[0]["text"]
            assert bot.process.returncode is None  # Telegram's absence stopped nothing
            [(after, down)] = bot.warned("telegram")
            assert "cannot be reached" in down and "ConnectError" in down, bot.log
            # said at the first try, not after the back-off (a loaded machine starts slowly)
            assert after < 15, after

            # The secretariat's digest lives only on Telegram: queued, it waits.
            await asyncio.to_thread(thidua, tmp_path, "digest", "--send")
            assert [k for k in unsent(tmp_path, "telegram") if k.startswith("digest-now:")]

            await telegram.start()  # Telegram is back on the same address
            back = time.monotonic()
            await eventually(
                lambda: bool(telegram.messages_to(2001)) and not unsent(tmp_path, "telegram"),
                max(RECONNECT[:4]) + 5,
                f"the digest on Telegram; log:\n{bot.log[-3000:]}",
            )
            waited = time.monotonic() - back
            await asyncio.sleep(1.0)  # a second copy would come now
            sent = telegram.messages_to(2001)
            digests = [m for m in sent if "TỔNG HỢP THI ĐUA" in str(m.get("text"))]
            workbooks = [m for m in sent if "document" in m]
            charts = [m for m in sent if "photo" in m]
            assert (len(digests), len(workbooks), len(charts)) == (1, 1, 1), sent
            assert "Chưa báo cáo: Thôn 1, Thôn 2, Thôn 3" in digests[0]["text"]
            assert workbooks[0]["document"].filename.endswith(".xlsx")
            assert charts[0]["photo"].filename.endswith(".png")
            assert waited < 15, waited
            assert telegram.violations == []
            assert zalo.violations == []
        finally:
            code_at_end = await bot.stop()
            await telegram.stop()
    assert code_at_end == 0, bot.log
    assert "Traceback" not in bot.log
    assert len(bot.warnings("telegram")) == 1, bot.log
    assert "telegram is connected" in bot.log


async def test_zalo_unreachable_at_start_telegram_serves_and_zalo_catches_up(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    """Zalo cannot be reached when the bot starts: Telegram is served meanwhile, the log
    says it in one WARNING line with no traceback, and once Zalo is back on its address the
    bot polls it by itself and answers a head writing on Zalo."""
    head_id = zalo_id(7002)
    await add_person(tmp_path, "Anh Ba", "head", "thon_1", Identity("zalo", head_id, head_id))
    zalo = ZaloApiStandIn(port=free_port())  # not started: nothing listens there yet
    zalo.poll_cap = 0.5
    standin.mark = len(standin.requests)  # type: ignore[attr-defined]
    spawned = time.monotonic()
    process = await start_bot(
        tmp_path,
        standin,
        ZALO_BOT_TOKEN=zalo.token,
        ZALO_API_URL=zalo.base_url,
        THIDUA_LOG_LEVEL="INFO",
    )
    bot = Run(process, spawned)
    try:
        stranger = standin.user(905, "Năm")
        assert "chưa đăng ký" in (await stranger.say("xin chào", timeout=10))[0]["text"]
        assert bot.process.returncode is None
        [(after, down)] = bot.warned("zalo")
        assert "cannot be reached" in down and "ConnectError" in down, bot.log
        # said at the first try, not after the back-off (a loaded machine starts slowly)
        assert after < 15, after

        await zalo.start()
        back = time.monotonic()
        head = zalo.user(head_id, "Anh Ba")
        menu = await head.say("/baocao", timeout=max(RECONNECT[:4]) + 5)
        assert "1. Kỳ tháng 10/2026 (trễ hạn)" in menu[0]["text"]
        assert time.monotonic() - back < 15
        assert zalo.violations == []
    finally:
        code_at_end = await bot.stop()
        await zalo.stop()
    assert code_at_end == 0, bot.log
    assert "Traceback" not in bot.log
    assert len(bot.warnings("zalo")) == 1, bot.log
    assert "zalo is connected" in bot.log


# -- configuration errors -----------------------------------------------------------------------

SECRET_32 = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"


WRONG_ZALO_TOKEN = "1234567890:not-the-stand-in-s-token"
CONFIG_ERRORS = [
    pytest.param(
        {"ZALO_BOT_TOKEN": WRONG_ZALO_TOKEN},
        "Zalo từ chối token: kiểm tra lại ZALO_BOT_TOKEN",
        id="zalo-token-refused",
    ),
    pytest.param(
        {"THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg-hook"},
        "THIDUA_WEBHOOK_URL cần đi kèm THIDUA_WEBHOOK_SECRET",
        id="telegram-webhook-without-secret",
    ),
    pytest.param(
        {
            "THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg-hook",
            "THIDUA_WEBHOOK_SECRET": "abcdefghij",
        },
        "THIDUA_WEBHOOK_URL cần đi kèm THIDUA_WEBHOOK_SECRET",
        id="telegram-webhook-10-character-secret",
    ),
    pytest.param(
        {"ZALO_WEBHOOK_URL": "http://bot.example.vn/zalo-hook", "ZALO_WEBHOOK_SECRET": SECRET_32},
        "ZALO_WEBHOOK_URL phải là một địa chỉ HTTPS",
        id="zalo-webhook-over-http",
    ),
]


@pytest.mark.parametrize(("env", "message"), CONFIG_ERRORS)
async def test_a_configuration_error_stops_the_process_with_one_vietnamese_line(
    tmp_path: Path, standin: BotApiStandIn, env: dict[str, str], message: str
) -> None:
    """A setting the bot cannot work with (a Zalo token Zalo refuses, a Telegram webhook
    without a secret or with a 10-character one, a Zalo webhook over plain HTTP) stops
    ``thidua run`` with exit code 2 and one Vietnamese line saying what to fix: no
    traceback, no token or secret, and no line claiming the bot runs."""
    telegram_case = "THIDUA_WEBHOOK_URL" in env
    async with ZaloApiStandIn() as zalo:
        settings = {"TELEGRAM_API_URL": standin.base_url, "ZALO_API_URL": zalo.base_url}
        if telegram_case:
            settings["TELEGRAM_BOT_TOKEN"] = standin.token
        else:
            settings["ZALO_BOT_TOKEN"] = zalo.token
        settings.update(env)
        process = await spawn_run(tmp_path, stdout=asyncio.subprocess.PIPE, **settings)
        out, err = await asyncio.wait_for(process.communicate(), 30)
        zalo_calls = [r.method for r in zalo.requests]
    text = err.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    said = [line for line in text.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(said) == 1 and said[0].startswith(message), text
    assert out.decode().strip() == ""
    for secret in (standin.token, zalo.token, WRONG_ZALO_TOKEN, SECRET_32, "abcdefghij"):
        assert secret.split(":", 1)[-1] not in text
    if "ZALO_BOT_TOKEN" in env:
        assert zalo_calls == ["getMe"]  # asked once, refused: not tried again
    else:
        assert standin.requests == [] and zalo_calls == []  # refused before anything ran
    # Nothing else: no log line before it saying the bot started, or that it is running.
    assert text.strip().splitlines() == said, f"more than the one line on stderr:\n{text}"


# -- kill -9 right after a webhook's 200 ------------------------------------------------------


async def test_telegram_webhook_kill_9_after_the_200_loses_no_photo(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    """In webhook mode a head's photo on the nomination's photo step is stored and answered
    200, but not yet applied (the bot is still fetching it: getFile is slow); the bot is
    killed with SIGKILL at that moment. Restarted, it applies the photo by itself (getFile
    asked again, the reply comes), exactly once, and Telegram never had to deliver it
    again: the 200 had been given."""
    await add_person(tmp_path, "Anh Một", "head", "thon_1", Identity("telegram", "1001", "1001"))
    port = free_port()
    standin.route_webhook("https://bot.example.vn", f"http://127.0.0.1:{port}")
    env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.base_url,
        "TELEGRAM_RATE_LIMIT": "0",
        "THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg-hook",
        "THIDUA_WEBHOOK_SECRET": SECRET_32,
        "THIDUA_WEBHOOK_PORT": str(port),
        "THIDUA_WEBHOOK_LISTEN": "127.0.0.1",
        "THIDUA_LOG_LEVEL": "INFO",
    }
    bot = await Run.spawn(tmp_path, **env)
    head = standin.user(1001, "Anh Một")
    try:
        await bot.wait_line("telegram: webhook on port")
        assert "bước 1/5" in texts(await head.say("/detcu", timeout=10))
        await head.say("Bà Nguyễn Thị Lan")
        await head.press(head.button("Thôn 2"))
        await head.say("Bà nấu cơm miễn phí cho bệnh nhân nghèo suốt ba năm.")
        photos_step = await head.press(head.button("Từ thiện nhân đạo"))
        assert "ảnh" in texts(photos_step)

        before = len(head.messages)
        files = len(standin.calls("getFile"))
        standin.delay_next("getFile", 5)
        await head.send_photo(file_id="ANH1", data=PHOTO, replies=0, timeout=10)
        update = head.last_update_id
        assert [p.status for p in standin.webhook_posts if p.update_id == update] == [200]
        await eventually(lambda: len(standin.calls("getFile")) > files, 5, "getFile")
    finally:
        await bot.kill()
    assert bot.process.returncode == -signal.SIGKILL
    assert len(head.messages) == before  # not applied: no reply went out
    assert unapplied_events(tmp_path) == [("telegram", str(update))]

    hooks = len(standin.calls("setWebhook"))
    again = await Run.spawn(tmp_path, **env)
    try:
        got = await standin.wait_messages(1001, 1, before, timeout=10)
        if "Đã nhận ảnh 1/3" not in texts(got):
            # Killed before the bot noted its last reply as sent: it goes out once more.
            assert got[0]["text"] == standin.messages_to(1001)[before - 1]["text"], again.log
            got = await standin.wait_messages(1001, 1, before + 1, timeout=10)
        assert "Đã nhận ảnh 1/3" in texts(got), again.log
        assert len(standin.messages_to(1001)) - before <= 2
        assert len(standin.calls("setWebhook")) > hooks
        summary = await head.press(head.button("Xong"))
        assert "Người được đề cử: Bà Nguyễn Thị Lan" in texts(summary)
        assert "Ảnh: 1" in texts(summary)  # applied once: one photo, not two
        await asyncio.sleep(0.5)
    finally:
        code_at_end = await again.stop()
    assert code_at_end == 0, again.log
    received = [m for m in head.messages[before:] if "Đã nhận ảnh" in str(m.get("text"))]
    assert len(received) == 1
    assert len(standin.calls("getFile")) == files + 2  # asked before the kill, and after
    assert [p.status for p in standin.webhook_posts if p.update_id == update] == [200]
    assert standin.pending_updates() == []
    assert unapplied_events(tmp_path) == []
    assert "Traceback" not in bot.log + again.log


class SlowPhotoHost:
    """Where Zalo keeps the photos people send (its CDN), on 127.0.0.1: holds the first
    download back ``hold`` seconds, serves the next ones at once."""

    def __init__(self, data: bytes, hold: float) -> None:
        self.data = data
        self.hold = hold
        self.downloads = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _photo(self, request: web.Request) -> web.Response:
        self.downloads += 1
        if self.downloads == 1:
            await asyncio.sleep(self.hold)
        return web.Response(body=self.data, content_type="image/jpeg")

    async def __aenter__(self) -> SlowPhotoHost:
        app = web.Application()
        app.router.add_get("/photo.jpg", self._photo)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/photo.jpg"


async def test_zalo_webhook_kill_9_after_the_200_loses_no_photo(tmp_path: Path) -> None:
    """The same on Zalo: a head's photo event, on the nomination's photo step, is answered
    200 once stored; the bot is killed with SIGKILL while it is still downloading the photo
    (the file host is slow). Restarted, it downloads the photo again and applies it once,
    and Zalo never had to post the event again."""
    head_id = zalo_id(7003)
    await add_person(tmp_path, "Anh Ba", "head", "thon_1", Identity("zalo", head_id, head_id))
    port = free_port()
    async with ZaloApiStandIn() as zalo, SlowPhotoHost(PHOTO, hold=5) as host:
        zalo.route_webhook("https://bot.example.vn", f"http://127.0.0.1:{port}")
        env = {
            "ZALO_BOT_TOKEN": zalo.token,
            "ZALO_API_URL": zalo.base_url,
            "ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo-hook",
            "ZALO_WEBHOOK_SECRET": SECRET_32,
            "ZALO_WEBHOOK_PORT": str(port),
            "ZALO_WEBHOOK_LISTEN": "127.0.0.1",
            "THIDUA_LOG_LEVEL": "INFO",
        }
        bot = await Run.spawn(tmp_path, **env)
        head = zalo.user(head_id, "Anh Ba")
        try:
            await bot.wait_line("zalo: webhook on port")
            await head.say("/detcu", timeout=10)
            await head.say("Bà Nguyễn Thị Lan")
            await head.say("2")  # Thôn 2
            kinds = texts(await head.say("Nấu cơm cho bệnh nhân nghèo."))
            assert "2. Từ thiện nhân đạo" in kinds
            assert "ảnh" in texts(await head.say("2"))
            before = len(head.messages)
            event = head.image_event(host.url)
            assert await zalo.post_to_webhook(event) == 200
            await eventually(lambda: host.downloads == 1, 5, "the photo's download")
        finally:
            await bot.kill()
        assert bot.process.returncode == -signal.SIGKILL
        assert len(head.messages) == before
        key = f"message.image.received:{event['message']['message_id']}"
        assert unapplied_events(tmp_path) == [("zalo", key)]

        posts = len(zalo.webhook_posts)
        again = await Run.spawn(tmp_path, **env)
        try:
            got = await zalo.wait_messages(head_id, 1, before, timeout=10)
            if "Đã nhận ảnh 1/3" not in texts(got):
                # Killed before the bot noted its last reply as sent: that reply goes out once
                # more (at least once, never lost), then the photo's.
                assert got[0] == zalo.messages_to(head_id)[before - 1], again.log
                got = await zalo.wait_messages(head_id, 1, before + 1, timeout=10)
            assert "Đã nhận ảnh 1/3" in texts(got), again.log
            assert len(zalo.messages_to(head_id)) - before <= 2
            summary = await head.say("1")  # Xong
            assert "Ảnh: 1" in texts(summary)
            await asyncio.sleep(0.5)
        finally:
            code_at_end = await again.stop()
        assert code_at_end == 0, again.log
        assert host.downloads == 2  # before the kill, and after
        assert len(zalo.webhook_posts) == posts + 1  # only the "1" (Xong): no redelivery
        received = [m for m in head.messages[before:] if "Đã nhận ảnh" in str(m.get("text"))]
        assert len(received) == 1
        assert zalo.violations == []
    assert unapplied_events(tmp_path) == []
    assert "Traceback" not in bot.log + again.log


# -- two processes on one database --------------------------------------------------------------


async def test_a_second_run_waits_on_standby_and_finishes_the_fan_out_after_a_kill_9(
    tmp_path: Path,
) -> None:
    """A second ``thidua run`` on the database another one serves says so in its log and
    waits, sending nothing; the first one starts a 40-head reminder fan-out and is killed
    with SIGKILL halfway; the one on standby takes over within a few seconds and sends the
    rest: every head reminded once (one duplicate at most, the reminder in flight at the
    kill), none missed."""
    occasion = NOW - timedelta(minutes=2)
    heads = 40
    villages = ", ".join(f"Thôn {n}" for n in range(1, heads + 1))
    text = (
        SMALL_PLAN.read_text(encoding="utf-8")
        .replace("villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]")
        .replace("due: 25", f"due: {occasion.day}")
    )
    plan = plan_file(
        tmp_path,
        f'  reminders: [0]\n  reminder_time: "{occasion:%H:%M}"\n'
        "  digest: false\n  quiet_hours: false\n",
        text,
    )
    store = await SqliteStorage.open(tmp_path / "thidua.db")
    async with store.transaction() as tx:
        for n in range(1, heads + 1):
            person = await tx.create_person(f"Trưởng thôn {n}", "head", f"thon_{n}", "vi", NOW)
            chat = str(5000 + n)
            await tx.add_identity(person.id, Identity("telegram", chat, chat), NOW)
    await store.close()
    chats = [5000 + n for n in range(1, heads + 1)]
    env = {"PLAN_FILE": str(plan), "TELEGRAM_RATE_LIMIT": "6", "THIDUA_LOG_LEVEL": "INFO"}

    # Each process talks to its own stand-in (same token), so who sent what is plain.
    async with BotApiStandIn(global_rate=30) as first_api, BotApiStandIn(global_rate=30) as spare:
        first_api.mark = len(first_api.requests)  # type: ignore[attr-defined]
        first = Run(await start_bot(tmp_path, first_api, **env))
        second: Run | None = None
        try:
            second = await Run.spawn(
                tmp_path,
                TELEGRAM_BOT_TOKEN=spare.token,
                TELEGRAM_API_URL=spare.base_url,
                **env,
            )
            standby = await second.wait_line("waits on standby", timeout=10)
            assert "another thidua run" in standby and f":{first.process.pid}:" in standby
            reached = await first_api.wait_until(
                lambda: len(first_api.sent_times()) >= heads // 2, timeout=15
            )
            assert reached, first.log[-3000:]
            assert spare.requests == []  # on standby: not even a getMe
            assert second.process.returncode is None
        finally:
            await first.kill()
        killed = time.monotonic()
        sent_first = len(first_api.sent_times())
        assert heads // 3 <= sent_first < heads, first.log[-3000:]  # killed halfway
        assert second is not None
        try:
            done = await spare.wait_until(
                lambda: all(
                    first_api.messages_to(chat) or spare.messages_to(chat) for chat in chats
                ),
                timeout=15,
            )
            assert done, second.log[-3000:]
            took_over = spare.sent_times()[0] - killed
            await asyncio.sleep(0.5)  # anything more would come now
        finally:
            code_at_end = await second.stop()
        assert code_at_end == 0, second.log
        assert took_over < 5, took_over
        counts = [len(first_api.messages_to(c)) + len(spare.messages_to(c)) for c in chats]
        assert set(counts) <= {1, 2} and counts.count(2) <= 1, counts
        assert first_api.flood_rejections == [] and spare.flood_rejections == []
        assert "hôm nay" in texts(spare.messages_to(chats[-1]) or first_api.messages_to(chats[-1]))
        assert first_api.violations == [] and spare.violations == []
    db = sqlite3.connect(tmp_path / "thidua.db")
    rows = db.execute("SELECT COUNT(*), COUNT(sent_at) FROM outbox").fetchone()
    db.close()
    assert rows == (heads, heads)
    assert "Traceback" not in first.log + second.log
