"""Real processes: ``thidua run`` killed with SIGKILL mid-form, and the console over stdin."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain import Identity
from storage.sqlite import SqliteStorage
from tests.button_words import button_words
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn


def plan_file(
    tmp_path: Path, schedule: str, text: str | None = None, name: str = "plan.yaml"
) -> Path:
    """The small plan (or ``text``) with its own ``schedule:`` section, in ``tmp_path``."""
    path = tmp_path / name
    body = text if text is not None else SMALL_PLAN.read_text(encoding="utf-8")
    path.write_text(body + "\nschedule:\n" + schedule, encoding="utf-8")
    return path


# Every process starts its clock here (THIDUA_NOW), whatever the machine's date: 24/11/2026
# 10:00 in Vietnam, the unit tests' moment too. Their plans schedule no job of their own.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
NO_JOBS = "  reminders: []\n  digest: false\n"


def thidua_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "THIDUA_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'thidua.db'}",
        PLAN_FILE=str(plan_file(tmp_path, NO_JOBS, name="plan-no-jobs.yaml")),
        PYTHONUNBUFFERED="1",
        THIDUA_NOW=NOW.isoformat(),
        THIDUA_WEB_PORT="off",  # a test that wants the web page gives it a free port
    )
    env.update(extra)
    return env


def thidua(tmp_path: Path, *args: str, stdin: str | None = None, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=thidua_env(tmp_path, **extra),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def spawn_run(
    tmp_path: Path, stdout: int = asyncio.subprocess.DEVNULL, **env: str
) -> asyncio.subprocess.Process:
    """A real ``thidua run`` process, stderr captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=thidua_env(tmp_path, **env),
        cwd=tmp_path,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_bot(
    tmp_path: Path, standin: BotApiStandIn, **env: str
) -> asyncio.subprocess.Process:
    settings = {"TELEGRAM_RATE_LIMIT": "0", "THIDUA_LOG_LEVEL": "DEBUG", **env}
    process = await spawn_run(
        tmp_path,
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_API_URL=standin.base_url,
        **settings,
    )
    # Ready once it polls.
    for _ in range(200):
        if any(r.method == "getUpdates" for r in standin.requests[standin.mark :]):
            return process
        if process.returncode is not None:
            err = await process.stderr.read() if process.stderr else b""
            raise AssertionError(err.decode())
        await asyncio.sleep(0.05)
    raise AssertionError("thidua run did not start polling")


async def test_kill_9_mid_form_then_restart_continues(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    code = thidua(tmp_path, "invite", "--village", "Thôn 2").strip().splitlines()[-1]
    standin.mark = len(standin.requests)
    bot = await start_bot(tmp_path, standin)
    head = standin.user(901, "Chín")
    try:
        assert "Thôn 2" in (await head.say(f"/start {code}", timeout=10))[0]["text"]
        await head.say("/baocao")
        await head.press(head.last_buttons()[1][1])  # the current period
        await head.say("412")
        answered = await head.say("400")
        assert "Câu 3/6" in answered[0]["text"]
    finally:
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
    assert bot.returncode == -signal.SIGKILL

    standin.mark = len(standin.requests)
    before = len(head.messages)
    bot = await start_bot(tmp_path, standin)
    try:
        resumed = await head.say("/baocao", timeout=10)
        if "làm dở" not in resumed[-1]["text"]:
            # Killed after Telegram took the last reply and before the bot noted it: the
            # reply goes out once more (at least once, never lost), then the answer.
            assert resumed[-1]["text"] == answered[0]["text"]
            resumed = await standin.wait_messages(901, 1, before + 1, timeout=10)
        assert "làm dở" in resumed[-1]["text"] and "Câu 3/6" in resumed[-1]["text"]
        assert len(head.messages) - before <= 2
        await head.press(head.button("Có"))
        await head.say("bo qua")
        await head.say("chua dat")
        await head.say("Không có gì thêm")
        receipt = await head.press(head.button("Gửi"))
        assert "Đã nhận" in receipt[0]["text"]
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 20)
    assert bot.stderr is not None
    log = (await bot.stderr.read()).decode()
    assert "getUpdates" in log or "polling" in log  # it did log, at DEBUG level
    secret = standin.token.split(":", 1)[1]
    assert secret not in log  # …and never the token
    db = sqlite3.connect(tmp_path / "thidua.db")
    rows = db.execute(
        "SELECT question_id, value FROM answers JOIN reports ON reports.id = report_id"
        " WHERE village_id = 'thon_2' ORDER BY position"
    ).fetchall()
    assert rows[:3] == [("tong_ho", '"412"'), ("ho_co_dien", '"400"'), ("thu_gom_rac", "true")]
    assert bot.returncode == 0


def test_console_fills_a_report_through_stdin(tmp_path: Path) -> None:
    lines = [
        "/baocao",
        "2",  # the current period
        "1.234 hộ",
        "1.200",
        "1",  # Có
        "12.5",  # ambiguous on a decimal question
        "1",  # 12,5
        "Thôn văn hóa",
        "bo qua",
        "1",  # Gửi
    ]
    out = thidua(tmp_path, "console", "--as", "thon 1", stdin="\n".join(lines) + "\n")
    assert "1. Có   2. Không" in out
    assert "Trả lời 1 hoặc 2." in out
    assert "Ý bạn là số nào?" in out
    assert "4. Diện tích lúa: 12,5 ha" in out
    assert "Đã nhận Báo cáo tháng của Thôn 1" in out
    assert button_words([out]) == []  # a terminal has no buttons
    csv_text = thidua(tmp_path, "export", "--format", "csv", "--plain")
    assert "tong_ho,1234,hộ,1," in csv_text
    assert "dien_tich_lua,12.5,ha,1," in csv_text
    assert "thu_gom_rac,yes,,1," in csv_text


async def test_a_rejected_token_is_reported_without_the_token(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    process = await spawn_run(
        tmp_path,
        stdout=asyncio.subprocess.PIPE,
        TELEGRAM_BOT_TOKEN="999:WRONG-SECRET",
        TELEGRAM_API_URL=standin.base_url,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    text = (out + err).decode()
    assert process.returncode == 2
    assert "từ chối token" in text
    assert "WRONG-SECRET" not in text
    assert "thidua is running" not in text and "Traceback" not in text


async def test_reminders_missed_at_start_are_sent_once_through_a_kill_9(tmp_path: Path) -> None:
    """A real ``thidua run`` started after today's reminder time catches the reminders up;
    killed with SIGKILL halfway through sending them, the next process sends the rest: each
    head gets one reminder (two at most for the one in flight at the kill), none lost."""
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
        now = NOW
        for n in range(1, heads + 1):
            person = await tx.create_person(f"Trưởng thôn {n}", "head", f"thon_{n}", "vi", now)
            chat = str(5000 + n)
            await tx.add_identity(person.id, Identity("telegram", chat, chat), now)
    await store.close()

    async with BotApiStandIn(global_rate=30) as standin:
        env = {"PLAN_FILE": str(plan), "TELEGRAM_RATE_LIMIT": "10", "THIDUA_LOG_LEVEL": "INFO"}
        standin.mark = len(standin.requests)  # type: ignore[attr-defined]
        bot = await start_bot(tmp_path, standin, **env)
        try:
            await standin.wait_until(lambda: len(standin.sent_times()) >= heads // 3, timeout=20)
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        before = len(standin.sent_times())
        assert bot.stderr is not None
        log = (await bot.stderr.read()).decode()
        assert heads // 3 <= before < heads, log[-3000:]  # killed halfway

        standin.mark = len(standin.requests)  # type: ignore[attr-defined]
        bot = await start_bot(tmp_path, standin, **env)
        try:
            assert await standin.wait_until(
                lambda: all(standin.messages_to(5000 + n) for n in range(1, heads + 1)),
                timeout=30,
            )
            await asyncio.sleep(0.5)  # anything more would come now
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 20)
        counts = [len(standin.messages_to(5000 + n)) for n in range(1, heads + 1)]
        assert set(counts) <= {1, 2} and counts.count(2) <= 1, counts
        assert standin.flood_rejections == []
        assert "hôm nay" in standin.messages_to(5001)[0]["text"]
    db = sqlite3.connect(tmp_path / "thidua.db")
    rows = db.execute("SELECT COUNT(*), COUNT(sent_at) FROM outbox").fetchone()
    assert rows == (heads, heads)


def test_console_nominates_with_numbered_menus(tmp_path: Path) -> None:
    lines = [
        "/detcu",
        "Bà Nguyễn Thị Lan",
        "2",  # Thôn 2 (the head's own Thôn 1 comes first)
        "Nấu cơm miễn phí cho bệnh nhân nghèo.",
        "2",  # Từ thiện nhân đạo
        "1",  # Bỏ qua: no photo
        "1",  # Gửi
        "/detcu_ds",
    ]
    out = thidua(tmp_path, "console", "--as", "thon 1", stdin="\n".join(lines) + "\n")
    assert "1. Thôn 1\n2. Thôn 2\n3. Thôn 3\n4. Quay lại" in out
    assert "Người được đề cử: Bà Nguyễn Thị Lan" in out and "Thôn: Thôn 2" in out
    assert "Đã nhận đề cử số ĐC-" in out
    assert "· Bà Nguyễn Thị Lan (Thôn 2) · Chờ xét" in out
    assert button_words([out]) == []


async def test_run_serves_zalo_next_to_telegram_and_never_logs_either_token(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    from tests.standin.zalo import ZaloApiStandIn, zalo_id

    code = thidua(tmp_path, "invite", "--village", "Thôn 3").strip().splitlines()[-1]
    async with ZaloApiStandIn() as zalo:
        zalo.poll_cap = 0.5
        standin.mark = len(standin.requests)  # type: ignore[attr-defined]
        bot = await start_bot(
            tmp_path, standin, ZALO_BOT_TOKEN=zalo.token, ZALO_API_URL=zalo.base_url
        )
        try:
            head = zalo.user(zalo_id(7001), "Anh Ba")
            welcome = await head.say(code, timeout=10)
            assert "Thôn 3" in welcome[0]["text"]
            menu = await head.say("/baocao", timeout=10)
            assert "1. Kỳ tháng 10/2026 (trễ hạn)" in menu[0]["text"]
            telegram_user = standin.user(905, "Năm")
            assert "chưa đăng ký" in (await telegram_user.say("xin chào", timeout=10))[0]["text"]
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 20)
        assert zalo.violations == []
    assert bot.stderr is not None
    log = (await bot.stderr.read()).decode()
    assert "zalo: bot bot.thidua" in log
    assert zalo.token.split(":", 1)[1] not in log
    assert standin.token.split(":", 1)[1] not in log
    assert bot.returncode == 0


def test_the_console_greets_a_registered_guest_by_name_and_mentions_a_draft_only_if_any(
    tmp_path: Path,
) -> None:
    code = thidua(tmp_path, "invite", "--role", "secretariat").strip().splitlines()[-1]
    first = thidua(tmp_path, "console", stdin=f"{code}\n/thoat\n")
    assert "chưa đăng ký" in first and "Chào mừng" in first
    assert "Tạm biệt!" in first and "Bản nháp" not in first
    again = thidua(tmp_path, "console", stdin="/thoat\n")
    assert "chưa đăng ký" not in again and "Chào " in again and "thường trực" in again
    head = thidua(tmp_path, "console", "--as", "Thôn 1", stdin="/baocao\n2\n/thoat\n")
    assert "Tạm biệt! Bản nháp vẫn được lưu." in head


async def test_the_console_leaves_at_once_on_ctrl_c_with_a_goodbye(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        "--as",
        "Thôn 1",
        env=thidua_env(tmp_path),
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,  # kept open: the console waits for a line
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    greeting = await asyncio.wait_for(process.stdout.readuntil(b"> "), 20)
    assert "trưởng thôn Thôn 1" in greeting.decode()
    process.send_signal(signal.SIGINT)
    out, _err = await asyncio.wait_for(process.communicate(), 5)  # at once, not on Enter
    assert "Tạm biệt!" in out.decode()
    assert process.returncode == 130
