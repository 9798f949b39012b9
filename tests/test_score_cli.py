"""``thidua score``: the board from a real SQLite file as JSON (the contract), text and
XLSX; freezing and reopening it; every misuse with its message and exit code. Also the
board's text and sheet renderers on a board built by hand."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.app.cli import main
from bot.outputs.scoreboard import (
    evidence_text,
    points_text,
    render_board_text,
    write_board_sheet,
)
from bot.plan.model import Plan
from storage.sqlite import SqliteStorage
from tests.boards import SCORING_YAML, hand_board, scoring_plan
from tests.conftest import SMALL_PLAN

NOW = "2026-12-20T10:00+07:00"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the small plan and its scoring section, its database, and
    the clock at 20/12/2026 10:00 (whatever the machine's date)."""
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "THIDUA_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(SMALL_PLAN.read_text(encoding="utf-8") + SCORING_YAML, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///thidua.db")
    monkeypatch.setenv("PLAN_FILE", str(plan))
    monkeypatch.setenv("THIDUA_NOW", NOW)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _answers(households: int, on_grid: int, waste: bool) -> dict[str, object]:
    return {
        "tong_ho": str(households),
        "ho_co_dien": str(on_grid),
        "thu_gom_rac": waste,
        "dien_tich_lua": None,
        "loai": "Thôn văn hóa",
        "ghi_chu": None,
    }


def sent_on(month: int, day: int) -> datetime:
    """10:00 in Vietnam on that day of 2026."""
    return datetime(2026, month, day, 3, 0, tzinfo=UTC)


async def seed(path: Path, tie: bool = False) -> None:
    """Reports of 2026 (as of 20/12, the months January to November are due, 11 reports):

    - Thôn 1 sends all eleven on the 20th (on time); its November report says 1.140 of
      1.200 households on the grid and waste collected; an October one said 1.100. Four
      nominations accepted in 2026, one refused as not eligible, one accepted in 2025.
    - Thôn 2 (unless ``tie``) sends January to September on time, nothing for October,
      November late on the 27th; 500 of 500 households, no waste collection. With ``tie``
      it does exactly what Thôn 1 does.
    - Thôn 3 sends nothing.
    """
    store = await SqliteStorage.open(path)
    start = datetime(2025, 1, 5, 3, 0, tzinfo=UTC)
    async with store.transaction() as tx:
        one = await tx.create_person("Nguyễn An", "head", "thon_1", "vi", start)
        two = await tx.create_person("Trần Bình", "head", "thon_2", "vi", start)
        staff = await tx.create_person("Lê Thư", "secretariat", None, "vi", start)
        for month in range(1, 12):
            on_grid = 1140 if month == 11 else 1100
            await tx.add_report(
                "thon_1",
                "thang",
                f"2026-{month:02d}",
                _answers(1200, on_grid, True),
                one.id,
                sent_on(month, 20),
            )
            if tie:
                answers = _answers(1200, on_grid, True)
            elif month == 10:
                continue
            else:
                answers = _answers(500, 500, False)
            day = 27 if month == 11 and not tie else 20
            await tx.add_report(
                "thon_2", "thang", f"2026-{month:02d}", answers, two.id, sent_on(month, day)
            )
        villages = ["thon_1"] * 6 + (["thon_2"] * 6 if tie else [])
        for number, village in enumerate(villages):
            kind = number % 6
            year = 2025 if kind == 5 else 2026
            at = datetime(year, 3 + kind, 2, 3, 0, tzinfo=UTC)
            nomination = await tx.add_nomination(
                one.id if village == "thon_1" else two.id,
                f"Hộ ông Y {number}",
                village,
                f"Hiến {number + 1}00 m² đất làm đường",
                "Người tốt việc tốt",
                [],
                year,
                at,
            )
            if kind == 4:  # not eligible: never counts
                await tx.change_nomination(
                    nomination.id, "review", "closed", staff.id, "rejected", "Trùng", at
                )
                continue
            await tx.change_nomination(
                nomination.id, "review", "phat_hien", staff.id, "accepted", "", at
            )
            if kind == 0:
                later = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)
                await tx.change_nomination(
                    nomination.id, "phat_hien", "boi_duong", staff.id, "advanced", "", later
                )
    await store.close()


async def add_late_report(path: Path) -> None:
    """Thôn 3 sends its November report on 21/12/2026, after the council froze the board."""
    store = await SqliteStorage.open(path)
    at = datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
    async with store.transaction() as tx:
        three = await tx.create_person("Phạm Chi", "head", "thon_3", "vi", at)
        await tx.add_report("thon_3", "thang", "2026-11", _answers(400, 380, True), three.id, at)
    await store.close()


def test_the_json_contract_from_a_real_database(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(env / "thidua.db"))
    code, out, err = run(capsys, "score", "--year", "2026", "--format", "json")
    assert code == 0, err
    board = json.loads(out)
    assert {"year", "max", "final", "villages"} <= set(board)
    assert board["year"] == 2026 and board["max"] == 50 and board["final"] is False
    assert [v["id"] for v in board["villages"]] == ["thon_1", "thon_2", "thon_3"]  # plan order
    first, second, third = board["villages"]
    for village in board["villages"]:
        assert {"id", "name", "criteria", "total", "grade", "rank", "missing", "claims"} <= set(
            village
        )
    # Thôn 1: 1.140/1.200 = 95 % → 10 × (95 − 50)/(100 − 50) = 9; waste 100 % → 10;
    # 11/11 on time → 15; 11/11 sent → 5; four accepted in 2026 → min(10, 4 × 2,5) = 10
    assert first["criteria"] == {"dien": 9, "rac": 10, "dung_han": 15, "day_du": 5, "guong": 10}
    assert first["total"] == 49 and first["rank"] == 1 and first["grade"] == "Xuất sắc"
    assert first["name"] == "Thôn 1" and first["missing"] == [] and first["claims"] == []
    # Thôn 2: 500/500 → 10; no waste → 0; 9 of 11 on time (October missing, November late)
    # → 15 × 9/11; 10 of 11 sent → 5 × 10/11; total 10 + 135/11 + 50/11 = 295/11, full
    # precision in the JSON
    assert second["criteria"]["dien"] == 10 and second["criteria"]["rac"] == 0
    assert second["criteria"]["dung_han"] == pytest.approx(135 / 11, abs=1e-12)
    assert second["criteria"]["day_du"] == pytest.approx(50 / 11, abs=1e-12)
    assert second["total"] == pytest.approx(295 / 11, abs=1e-12)
    assert second["total"] != round(second["total"], 1)  # not the rounded figure
    assert second["rank"] == 2 and second["grade"] == "Chưa hoàn thành"
    # Thôn 3 sent nothing: no electricity or waste figure
    assert third["total"] == 0 and third["rank"] == 3
    assert sorted(third["missing"]) == ["dien", "rac"]
    # --out writes the same text to a file
    code, _out, err = run(capsys, "score", "--year", "2026", "--format", "json", "--out", "b.json")
    assert code == 0 and "b.json" in err
    assert json.loads((env / "b.json").read_text(encoding="utf-8")) == board
    # a scoring date before November's report: October's figure (1.100/1.200) and 10 due
    code, out, _err = run(
        capsys, "score", "--year", "2026", "--format", "json", "--as-of", "2026-11-19"
    )
    early = json.loads(out)["villages"][0]
    # 1.100/1.200 = 91,67 % → 10 × (91,67 − 50)/50 = 8,33…; reports due Jan–Oct: 10, all on time
    assert early["criteria"]["dien"] == pytest.approx(25 / 3, abs=1e-12)
    assert early["criteria"]["dung_han"] == 15


def test_the_text_board_rounds_to_one_decimal_in_vietnamese(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(env / "thidua.db"))
    code, out, err = run(capsys, "score", "--year", "2026")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Xã Thử"
    assert lines[1].startswith("TẠM TÍNH") and "20/12/2026" in lines[1]
    header = lines[3].split()
    assert header == ["Hạng", "Thôn", "1", "2", "3", "4", "5", "Tổng", "Xếp", "loại"]
    rows = {line.split()[2]: line.split() for line in lines[4:7]}
    assert rows["1"][:2] == ["1", "Thôn"] and rows["1"][-2:] == ["Xuất", "sắc"]
    # 135/11 = 12,27… → 12,3; 50/11 = 4,54… → 4,5; 295/11 = 26,81… → 26,8
    assert rows["2"][2:9] == ["2", "10", "0", "12,3", "4,5", "0", "26,8"]
    assert rows["3"][3:5] == ["0*", "0*"]  # thiếu số liệu
    # aligned: every row's total ends in the same column
    ends = {[m.end() for m in re.finditer(r"\S+", line)][8] for line in lines[4:7]}
    assert len(ends) == 1
    assert "* thiếu số liệu (0 điểm):\n  Thôn 3: Điện lưới, Thu gom rác\n" in out
    assert "\n  3. Báo cáo đúng hạn (dung_han), tối đa 15 điểm\n" in out


def test_the_workbook_holds_rounded_numbers(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(seed(env / "thidua.db"))
    assert run(capsys, "score", "--year", "2026", "--format", "xlsx")[0] == 2  # needs --out
    code, _out, err = run(
        capsys, "score", "--year", "2026", "--format", "xlsx", "--out", "bang-diem.xlsx"
    )
    assert code == 0, err
    book = load_workbook(env / "bang-diem.xlsx")
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Xã Thử"
    header = rows[3]
    assert header[:3] == ["Hạng", "Thôn", "Điện lưới (tối đa 10)"]
    by_name = {r[1]: r for r in rows[4:7]}
    assert by_name["Thôn 2"][4] == 12.3 and by_name["Thôn 2"][7] == 26.8  # numbers, one decimal
    assert by_name["Thôn 1"][7] == 49 and by_name["Thôn 1"][8] == "Xuất sắc"
    assert by_name["Thôn 3"][9] == "Điện lưới, Thu gom rác"  # thiếu số liệu
    assert sheet.cell(row=6, column=5).number_format == "0.0"
    evidence = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    line = next(r for r in evidence if r[0] == "Thôn 1" and r[1] == "Điện lưới")
    assert line[3].startswith("1.140/1.200 hộ = 95% (tháng 11/2026, báo cáo số ")


def test_finalize_freezes_the_board_and_reopen_opens_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(env / "thidua.db"))
    by = "Hội đồng TĐKT, họp ngày 20/12/2026"
    code, out, err = run(
        capsys, "score", "--year", "2026", "--finalize", "--by", by, "--format", "json"
    )
    assert code == 0, err
    frozen = json.loads(out)
    assert frozen["final"] is True and "Đã chốt bảng điểm năm 2026" in err
    # a report sent afterwards changes nothing, whatever the scoring date asked
    asyncio.run(add_late_report(env / "thidua.db"))
    code, out, err = run(
        capsys, "score", "--year", "2026", "--format", "json", "--as-of", "2026-12-31"
    )
    assert code == 0
    assert json.loads(out)["villages"] == frozen["villages"]
    assert "đã được chốt" in err  # --as-of cannot change a frozen board
    code, out, _err = run(capsys, "score", "--year", "2026")
    assert "ĐÃ CHỐT ngày 20/12/2026 bởi Hội đồng TĐKT, họp ngày 20/12/2026" in out
    # finalizing twice is refused
    code, _out, err = run(capsys, "score", "--year", "2026", "--finalize", "--by", "Chủ tịch")
    assert code == 1 and "đã được chốt" in err
    # reopened, the board counts the late report again
    code, out, err = run(
        capsys, "score", "--year", "2026", "--reopen", "--reason", "Thôn 3 gửi bổ sung"
    )
    assert code == 0, err
    assert "Đã mở lại bảng điểm năm 2026" in out and "Thôn 3 gửi bổ sung" in out
    code, out, _err = run(
        capsys, "score", "--year", "2026", "--format", "json", "--as-of", "2026-12-21"
    )
    reopened = json.loads(out)
    assert reopened["final"] is False
    third = reopened["villages"][2]
    assert third["missing"] == [] and third["criteria"]["dien"] == 9  # 380/400 = 95 %
    # reopening a board that is not frozen is refused
    code, _out, err = run(capsys, "score", "--year", "2026", "--reopen", "--reason", "lần nữa")
    assert code == 1 and "chưa được chốt" in err


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (["--finalize"], '--by "Hội đồng TĐKT', 2),
        (["--finalize", "--by", "  "], '--by "Hội đồng TĐKT', 2),
        (["--by", "Hội đồng"], "--by chỉ dùng với --finalize", 2),
        (["--reopen"], "--reason", 2),
        (["--reason", "x"], "--reason chỉ dùng với --reopen", 2),
        (["--finalize", "--by", "x", "--reopen", "--reason", "y"], "không dùng cùng", 2),
        (["--as-of", "20/12/2026"], "Ngày “20/12/2026” không hợp lệ", 2),
        (["--as-of", "2026-02-30"], "NĂM-THÁNG-NGÀY", 2),
        (["--format", "xlsx"], "--out", 2),
        (["--year", "2023"], "Kế hoạch không chấm điểm năm 2023: kế hoạch áp dụng từ năm 2024", 2),
        (["--year", "2027"], "sau ngày chấm điểm 20/12/2026", 2),
        (["--reopen", "--reason", "chưa chốt"], "chưa được chốt", 1),
        (["--year", "hai nghìn"], "Năm “hai nghìn” không hợp lệ: ghi bốn chữ số", 2),
        (["--year", "26"], "Năm “26” không hợp lệ", 2),
        (["--year"], "Cần ghi năm: --year NĂM", 2),
    ],
)
def test_misuse_gets_a_clear_message_and_a_non_zero_exit(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
    exit_code: int,
) -> None:
    year = [] if "--year" in args else ["--year", "2026"]
    if args == ["--year"]:  # no year at all
        year, args = [], []
    code, out, err = run(capsys, "score", *year, *args)
    assert code == exit_code
    assert message in err
    assert out == "" and "Traceback" not in err


def test_a_plan_without_scoring_has_no_board(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLAN_FILE", str(SMALL_PLAN))
    for command in ("score", "dossier"):
        code, out, err = run(capsys, command, "--year", "2026", "--out", str(env / "x"))
        assert code == 2 and out == ""
        assert "chưa có mục scoring:" in err and "thidua plan check" in err


# -- the renderers, on a board built by hand ----------------------------------------------


@pytest.fixture
def plan(small_plan: Plan) -> Plan:
    return scoring_plan(small_plan)


def test_text_marks_ties_claims_and_missing_data(plan: Plan) -> None:
    text = render_board_text(plan, hand_board(plan))
    lines = text.splitlines()
    rows = [line for line in lines if line.lstrip().startswith(("1 ", "3 "))]
    assert len(rows) == 3
    assert rows[0].split()[:2] == ["1", "Thôn"] and rows[1].split()[:2] == ["1", "Thôn"]  # shared
    assert rows[0].endswith("Xuất sắc (bằng điểm)") and rows[1].endswith("Tốt (bằng điểm)")
    assert rows[1].split()[3] == "9†"  # an accepted claim set it
    assert rows[2].split()[3:5] == ["0*", "0*"]
    assert rows[0].split()[5] == "13,8"  # 13,75 to one decimal, halves up
    assert (
        "Bằng điểm tại ngưỡng giới hạn số thôn của một xếp loại, đề nghị Hội đồng xem xét: "
        "Thôn 1, Thôn 2." in text
    )
    assert "Đề nghị tự chấm đang chờ thường trực xét: 1." in text
    final = render_board_text(plan, hand_board(plan, final=True))
    assert "ĐÃ CHỐT ngày 20/12/2026 bởi Hội đồng TĐKT, họp ngày 20/12/2026" in final
    assert "TẠM TÍNH" not in final


def test_points_and_evidence_in_words(plan: Plan) -> None:
    board = hand_board(plan)
    assert points_text(Decimal("13.75")) == "13,8" and points_text(Decimal(10)) == "10"
    assert points_text(Decimal("0.04")) == "0"
    first = board.village("thon_1")
    assert (
        evidence_text(plan, first.criterion("dien"))
        == "1.140/1.200 hộ = 95% (tháng 11/2026, báo cáo số 17)"
    )
    assert evidence_text(plan, first.criterion("dung_han")) == "11/12 báo cáo đúng hạn"
    assert evidence_text(plan, first.criterion("day_du")) == "12/12 báo cáo đã gửi"
    claimed = board.village("thon_2").criterion("dien")
    assert evidence_text(plan, claimed) == "thiếu số liệu; theo đề nghị tự chấm được chấp nhận: 95%"


def test_the_sheet_the_workbook_gets(plan: Plan) -> None:
    book = Workbook()
    sheet = book.active
    write_board_sheet(sheet, plan, hand_board(plan))
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][0].startswith("TẠM TÍNH")
    body = rows[4:7]
    assert [r[1] for r in body] == ["Thôn 1", "Thôn 2", "Thôn 3"]  # by rank, then plan order
    assert [r[0] for r in body] == [1, 1, 3]
    assert body[0][4] == 13.8 and body[0][7] == 47.8 and isinstance(body[0][7], float)
    assert "bằng điểm" in body[0][10] and "tự chấm được chấp nhận: Điện lưới" in body[1][10]
    assert rows[7][1] == "Tối đa" and rows[7][7] == 50
    assert any("Thôn 1, Thôn 2" in str(r[0]) for r in rows[8:])
