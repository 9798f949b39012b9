"""Villages keep their data by id: a renamed village keeps its reports, and a plan that drops
a village, form or question with stored data is refused by ``thidua run`` (unless told
``--accept-removals``) and reported by ``thidua plan check --database``."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.app.plan_guard import SNAPSHOT_KEY
from bot.plan.model import DEFAULT_PLAN_PATH, Plan, check_plan_text, load_plan, slugify
from bot.plan.removals import InUse, find_removals, removals_text
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn
from tests.test_process import thidua_env

WHEN = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
ANSWERS = {
    "tong_ho": "120",
    "ho_co_dien": "100",
    "thu_gom_rac": True,
    "dien_tich_lua": None,
    "loai": "Chưa đạt",
    "ghi_chu": "không có gì",
}
WEEKLY_FORM = """\
  - id: tuan
    title: Báo cáo tuần
    period: week
    due: 5
    questions:
      - id: vu_viec
        ask: Bao nhiêu vụ việc?
        type: integer
"""
# The small plan with its villages as a block list and a weekly form: the plan of the
# first run.
PLAN_A = (
    SMALL_PLAN.read_text(encoding="utf-8")
    .replace(
        "villages: [Thôn 1, Thôn 2, Thôn 3]\n", "villages:\n  - Thôn 1\n  - Thôn 2\n  - Thôn 3\n"
    )
    .replace("indicators:\n", WEEKLY_FORM + "indicators:\n")
)
# The same without Thôn 1, without the weekly form and without the question ghi_chu.
PLAN_B = (
    PLAN_A.replace("  - Thôn 1\n", "")
    .replace(WEEKLY_FORM, "")
    .replace(
        "      - id: ghi_chu\n        ask: Ghi chú thêm?\n        label: Ghi chú\n"
        "        type: text\n        optional: true\n",
        "",
    )
)


def line_of(text: str, fragment: str) -> int:
    [number] = [i for i, line in enumerate(text.splitlines(), 1) if line == fragment]
    return number


THON_1_LINE = line_of(PLAN_A, "  - Thôn 1")
WEEKLY_LINE = line_of(PLAN_A, "  - id: tuan")
GHI_CHU_LINE = line_of(PLAN_A, "      - id: ghi_chu")


def test_the_plans_of_these_tests_are_valid() -> None:
    for text in (PLAN_A, PLAN_B):
        plan, problems = check_plan_text(text)
        assert problems == [] and plan is not None
    assert (THON_1_LINE, WEEKLY_LINE, GHI_CHU_LINE) == (7, 49, 44)


async def seed(path: Path) -> None:
    """A head of Thôn 1 with a monthly report (ghi_chu answered) and a score claim, a weekly
    report of Thôn 2."""
    store = await SqliteStorage.open(path)
    async with store.transaction() as tx:
        head = await tx.create_person("Nguyễn An", "head", "thon_1", "vi", WHEN)
        await tx.add_report("thon_1", "thang", "2026-11", ANSWERS, head.id, WHEN)
        await tx.add_claim(2026, "thon_1", "dien", Decimal(96), "Đã kéo điện", None, head.id, WHEN)
        await tx.add_report("thon_2", "tuan", "2026-W47", {"vu_viec": "2"}, head.id, WHEN)
    await store.close()


# --------------------------------------------------------------------------- renaming


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "ZALO_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///thidua.db")
    monkeypatch.setenv("THIDUA_NOW", "2026-11-24T10:00+07:00")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_default_plan_names_each_village_by_the_id_its_name_gave_it() -> None:
    """Every village of the default plan has an explicit id, the one its name derived
    before ids were written (``Thôn 3`` → ``thon_3``), so existing databases keep their
    data and renaming a village in the plan keeps its id."""
    text = DEFAULT_PLAN_PATH.read_text(encoding="utf-8")
    items = re.findall(r"(?m)^  - (.*Thôn \d+.*)$", text)
    assert len(items) == 19
    assert all(item.startswith("{id: thon_") for item in items), items
    plan = load_plan(DEFAULT_PLAN_PATH)
    assert [v.id for v in plan.villages] == [slugify(v.name) for v in plan.villages]
    assert [v.id for v in plan.villages] == [f"thon_{n}" for n in range(1, 20)]


def test_a_village_renamed_in_the_default_plan_keeps_its_reports(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's step 3: replace a placeholder name with the real one. The digest counts
    the village's report under its new name and ``console --as`` finds it and its report."""

    async def seed_thon_3() -> None:
        store = await SqliteStorage.open(env / "thidua.db")
        async with store.transaction() as tx:
            head = await tx.create_person("Trần Bình", "head", "thon_3", "vi", WHEN)
            await tx.add_report("thon_3", "thang", "2026-11", {"tong_ho": "80"}, head.id, WHEN)
        await store.close()

    asyncio.run(seed_thon_3())
    text = DEFAULT_PLAN_PATH.read_text(encoding="utf-8")
    # the name, whichever way the village is written (`- Thôn 3` or `{id: …, name: Thôn 3}`)
    renamed, count = re.subn(r"(?m)^(  - (?:\{id: \w+, name: )?)Thôn 3\b", r"\1Buôn Nui", text)
    assert count == 1
    plan_file = env / "plan.yaml"
    plan_file.write_text(renamed, encoding="utf-8")
    monkeypatch.setenv("PLAN_FILE", str(plan_file))

    code, out, _err = run(
        capsys, "plan", "check", str(plan_file), "--database", "sqlite:///thidua.db"
    )
    assert code == 0, out
    assert "đều còn trong kế hoạch" in out

    code, out, _err = run(capsys, "digest", "--period", "2026-11")
    assert code == 0
    assert "1/19" in out and "0/19" not in out  # Buôn Nui's report counts
    assert "Buôn Nui" in out

    monkeypatch.setattr(sys, "stdin", io.StringIO("/baocao\n/thoat\n"))
    code, out, err = run(capsys, "console", "--as", "Buôn Nui")
    assert code == 0, err
    assert "trưởng thôn Buôn Nui" in out
    assert "đã gửi" in out  # the month's report, sent before the rename


# --------------------------------------------------------------------------- removals


def load_plan_text(text: str) -> Plan:
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    return plan


def test_removals_are_found_with_their_old_lines() -> None:
    plan = load_plan_text(PLAN_B)
    in_use = InUse(
        villages={"thon_1": {"reports": 1, "people": 1}, "thon_2": {"reports": 1}},
        forms={"thang": 1, "tuan": 1},
        questions={("thang", "ghi_chu"): 1, ("thang", "tong_ho"): 1, ("tuan", "vu_viec"): 1},
    )
    removals = find_removals(plan, in_use, PLAN_A)
    # the weekly form's question goes with its form
    assert [(r.kind, r.id, r.line) for r in removals] == [
        ("village", "thon_1", THON_1_LINE),
        ("form", "tuan", WEEKLY_LINE),
        ("question", "ghi_chu", GHI_CHU_LINE),
    ]
    text = removals_text(removals, Path("plan.yaml"), snapshot_known=True, for_run=True)
    assert f"thôn “Thôn 1” (mã thon_1), dòng {THON_1_LINE} trong kế hoạch lần chạy trước" in text
    assert "dữ liệu: báo cáo 1, người dùng 1" in text
    assert f"biểu mẫu “Báo cáo tuần” (mã tuan), dòng {WEEKLY_LINE}" in text
    assert f"câu hỏi “Ghi chú” (mã ghi_chu) của biểu mẫu thang, dòng {GHI_CHU_LINE}" in text
    assert "--accept-removals" in text

    # without a snapshot: the ids, no line, and a sentence saying why
    removals = find_removals(plan, in_use, None)
    assert [r.line for r in removals] == [None, None, None]
    text = removals_text(removals, Path("plan.yaml"), snapshot_known=False, for_run=False)
    assert "dòng" not in text.splitlines()[1]
    assert "chưa lưu kế hoạch của lần chạy trước" in text
    assert "thidua run sẽ không chạy với kế hoạch này" in text


def test_a_village_renamed_without_its_id_gets_the_fix_suggested() -> None:
    plan = load_plan_text(PLAN_A.replace("  - Thôn 1\n", "  - Tân Lập\n"))
    in_use = InUse(villages={"thon_1": {"reports": 3}}, forms={}, questions={})
    [removal] = find_removals(plan, in_use, PLAN_A)
    assert removal.renamed_to is not None and removal.renamed_to.id == "tan_lap"
    text = removals_text([removal], Path("plan.yaml"), snapshot_known=True, for_run=True)
    assert "{id: thon_1, name: Tân Lập}" in text


def test_plan_check_with_a_database_without_a_snapshot(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(env / "thidua.db"))
    plan_file = env / "plan-b.yaml"
    plan_file.write_text(PLAN_B, encoding="utf-8")
    code, out, _err = run(
        capsys, "plan", "check", str(plan_file), "--database", "sqlite:///thidua.db"
    )
    assert code == 1
    assert "bỏ mất 3 mục" in out
    assert "thôn mã thon_1; dữ liệu: báo cáo 1, người dùng 1, đề nghị chấm lại điểm 1" in out
    assert "biểu mẫu mã tuan; dữ liệu: báo cáo 1" in out
    assert "câu hỏi mã ghi_chu của biểu mẫu thang; dữ liệu: câu trả lời 1" in out
    assert "chưa lưu kế hoạch của lần chạy trước" in out

    code, _out, err = run(
        capsys, "plan", "check", str(plan_file), "--database", "sqlite:///none.db"
    )
    assert code == 2 and "Không có cơ sở dữ liệu" in err
    assert not (env / "none.db").exists()


async def _start(
    tmp_path: Path, standin: BotApiStandIn, *args: str, **env: str
) -> asyncio.subprocess.Process:
    """A real ``thidua run`` (with ``args``) polling the stand-in."""
    mark = len(standin.requests)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        *args,
        env=thidua_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=standin.token,
            TELEGRAM_API_URL=standin.base_url,
            TELEGRAM_RATE_LIMIT="0",
            **env,
        ),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(200):
        if any(r.method == "getUpdates" for r in standin.requests[mark:]):
            return process
        if process.returncode is not None:
            err = await process.stderr.read() if process.stderr else b""
            raise AssertionError(err.decode())
        await asyncio.sleep(0.05)
    raise AssertionError("thidua run did not start polling")


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0


def _thidua(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=thidua_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


async def test_run_refuses_a_plan_that_drops_what_has_data_unless_told(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    await seed(tmp_path / "thidua.db")
    plan_a = tmp_path / "plan-a.yaml"
    plan_a.write_text(PLAN_A, encoding="utf-8")
    plan_b = tmp_path / "plan-b.yaml"
    plan_b.write_text(PLAN_B, encoding="utf-8")

    # The first run stores the plan it starts with.
    await _stop(await _start(tmp_path, standin, PLAN_FILE=str(plan_a)))
    db = sqlite3.connect(tmp_path / "thidua.db")
    [(snapshot,)] = db.execute("SELECT value FROM meta WHERE key = ?", (SNAPSHOT_KEY,))
    assert snapshot == PLAN_A

    # The edited plan drops Thôn 1, the weekly form and a question: refused, before any
    # channel is reached, in one message naming each with its old line.
    mark = len(standin.requests)
    token = standin.token
    done = await asyncio.to_thread(
        _thidua,
        tmp_path,
        "run",
        PLAN_FILE=str(plan_b),
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_URL=standin.base_url,
    )
    assert done.returncode == 2
    err = done.stderr
    assert "Traceback" not in err
    assert err.count("bỏ mất 3 mục vẫn còn dữ liệu") == 1
    assert f"thôn “Thôn 1” (mã thon_1), dòng {THON_1_LINE} trong kế hoạch lần chạy trước" in err
    assert f"biểu mẫu “Báo cáo tuần” (mã tuan), dòng {WEEKLY_LINE}" in err
    assert f"câu hỏi “Ghi chú” (mã ghi_chu) của biểu mẫu thang, dòng {GHI_CHU_LINE}" in err
    assert "--accept-removals" in err
    assert standin.requests[mark:] == []

    # plan check reports the same
    done = await asyncio.to_thread(
        _thidua,
        tmp_path,
        "plan",
        "check",
        str(plan_b),
        "--database",
        f"sqlite:///{tmp_path / 'thidua.db'}",
    )
    assert done.returncode == 1
    assert f"dòng {THON_1_LINE} trong kế hoạch lần chạy trước" in done.stdout
    assert "thidua run sẽ không chạy với kế hoạch này" in done.stdout

    # Told to accept, it runs, and remembers: the next start does not ask again.
    await _stop(await _start(tmp_path, standin, "--accept-removals", PLAN_FILE=str(plan_b)))
    done = await asyncio.to_thread(
        _thidua,
        tmp_path,
        "plan",
        "check",
        str(plan_b),
        "--database",
        f"sqlite:///{tmp_path / 'thidua.db'}",
    )
    assert done.returncode == 0, done.stdout
    assert "Đã chấp nhận bỏ" in done.stdout and "thon_1" in done.stdout
    await _stop(await _start(tmp_path, standin, PLAN_FILE=str(plan_b)))

    # The data is still there, for a plan that names Thôn 1 again.
    assert db.execute("SELECT COUNT(*) FROM reports WHERE village_id = 'thon_1'").fetchone() == (1,)
    db.close()
