"""Real processes: ``thidua run`` killed with SIGKILL mid-form, and the console over stdin."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn


def thidua_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "THIDUA_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'thidua.db'}",
        PLAN_FILE=str(SMALL_PLAN),
        PYTHONUNBUFFERED="1",
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


async def start_bot(tmp_path: Path, standin: BotApiStandIn) -> asyncio.subprocess.Process:
    process = await spawn_run(
        tmp_path,
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_API_URL=standin.base_url,
        TELEGRAM_RATE_LIMIT="0",
        THIDUA_LOG_LEVEL="DEBUG",
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
    bot = await start_bot(tmp_path, standin)
    try:
        resumed = await head.say("/baocao", timeout=10)
        assert "làm dở" in resumed[0]["text"] and "Câu 3/6" in resumed[0]["text"]
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
    csv_text = thidua(tmp_path, "export", "--format", "csv")
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
