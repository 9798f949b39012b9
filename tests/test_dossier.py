"""The council's dossier: the achievement report and the minutes opened back with
python-docx (the village's figures, the page, the fonts, the layout), and ``thidua
dossier`` over a real SQLite file."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook

from bot.app.cli import main
from bot.domain import Nomination, NominationEvent
from bot.outputs.dossier import (
    BLANK,
    GoodDeed,
    ReportDue,
    VillageRecord,
    achievement_report,
    council_minutes,
    proposed_villages,
    report_file_name,
)
from bot.outputs.scoreboard import evidence_text
from bot.plan.model import Plan
from bot.plan.periods import parse_period
from bot.scoring.board import Board, Evidence
from tests.boards import hand_board, scoring_plan
from tests.test_score_cli import env, seed  # noqa: F401  (the fixture, and the seeding)


def _blocks(doc: Any) -> list[Paragraph | Table]:
    """The body's paragraphs and tables, in order."""
    items: list[Paragraph | Table] = []
    for element in doc.element.body.iterchildren():
        if element.tag == qn("w:p"):
            items.append(Paragraph(element, doc))
        elif element.tag == qn("w:tbl"):
            items.append(Table(element, doc))
    return items


def _text(doc: Any) -> str:
    """Every paragraph's text, tables' cells too, one line each."""
    lines: list[str] = []
    for block in _blocks(doc):
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            for row in block.rows:
                lines.append(" | ".join(cell.text.replace("\n", " / ") for cell in row.cells))
    return "\n".join(lines)


def _rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _tables(doc: Any) -> list[Table]:
    return [b for b in _blocks(doc) if isinstance(b, Table)]


def _check_page_and_fonts(doc: Any) -> None:
    """A4 portrait, the margins of Nghị định 30/2020, Times New Roman 13–14 pt for every
    script, Vietnamese as the language."""
    section = doc.sections[0]
    assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1
    assert 20 <= round(section.top_margin.mm) <= 25 and 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35
    assert 15 <= round(section.right_margin.mm) <= 20
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 14
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(script)) == "Times New Roman"
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    default_fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert default_fonts.get(qn("w:eastAsiaTheme")) is None  # no theme font overrides it
    assert default_fonts.get(qn("w:cs")) == "Times New Roman"
    assert defaults.find(qn("w:rPr")).find(qn("w:lang")).get(qn("w:val")) == "vi-VN"
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            assert run.font.size is None or 13 <= run.font.size.pt <= 14
            assert run.font.name in (None, "Times New Roman")


TEXT_WIDTH_MM = 210 - 30 - 15


def _column_widths(table: Table) -> list[float]:
    """The table's column widths in mm, after checking that it has fixed widths: not
    autofit, and every cell as wide as its grid column (LibreOffice reads the grid, Word the
    cells)."""
    assert table.autofit is False
    grid = [column.width.mm for column in table.columns]
    for row in table.rows:
        assert [round(cell.width.mm, 1) for cell in row.cells] == [round(w, 1) for w in grid]
    return grid


def _rule_mm(paragraph: Paragraph, cell_mm: float) -> float:
    """How long the short line an empty paragraph draws is (its bottom border, between its
    indents, inside the cell's 1,9 mm margins); 0 when it draws none."""
    p_pr = paragraph._p.pPr
    borders = p_pr.find(qn("w:pBdr")) if p_pr is not None else None
    if paragraph.text or borders is None or borders.find(qn("w:bottom")) is None:
        return 0
    left, right = paragraph.paragraph_format.left_indent, paragraph.paragraph_format.right_indent
    assert abs(left.mm - right.mm) < 0.1  # centred
    return cell_mm - 2 * 1.9 - left.mm - right.mm


def _check_heading(doc: Any, left: list[str]) -> None:
    """The heading of Nghị định 30/2020: a table of two fixed columns, 40 % and 60 % of the
    text width; the issuing body on the left (the body above, the unit in bold below it, a
    short line); on the right the Quốc hiệu in one paragraph, bold capitals in 12–13 pt,
    the tiêu ngữ in bold 13–14 pt below it, a line under it, the place and date in
    italics."""
    first = _blocks(doc)[0]
    assert isinstance(first, Table)
    widths = _column_widths(first)
    assert abs(sum(widths) - TEXT_WIDTH_MM) < 0.1
    assert abs(widths[0] - 0.4 * TEXT_WIDTH_MM) < 0.5 and abs(widths[1] - 0.6 * TEXT_WIDTH_MM) < 0.5
    left_cell, right_cell = first.rows[0].cells
    body, unit, rule = left_cell.paragraphs[:3]
    assert [body.text, unit.text] == left
    assert not any(r.bold for r in body.runs) and all(r.bold for r in unit.runs)
    assert 5 <= _rule_mm(rule, widths[0]) <= 30  # short, under the unit
    quoc_hieu, tieu_ngu, line, place = right_cell.paragraphs
    assert quoc_hieu.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"  # one paragraph, no break
    assert len(quoc_hieu.runs) == 1 and quoc_hieu.runs[0].bold
    assert 12 <= quoc_hieu.runs[0].font.size.pt <= 13
    assert quoc_hieu.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert tieu_ngu.text == "Độc lập - Tự do - Hạnh phúc" and tieu_ngu.runs[0].bold
    assert 13 <= tieu_ngu.runs[0].font.size.pt <= 14
    assert 50 <= _rule_mm(line, widths[1]) <= 62  # as long as the tiêu ngữ
    assert place.text == "Thử, ngày …… tháng …… năm ……"
    assert place.runs[0].italic and place.alignment == WD_ALIGN_PARAGRAPH.CENTER


def _check_table_widths(table: Table, narrow: tuple[int, ...], wide: int) -> list[float]:
    """A data table's fixed widths: they sum to the text width, the ``narrow`` columns (STT,
    Hạng, Điểm) are at most 25 mm, the ``wide`` one is the widest."""
    widths = _column_widths(table)
    assert abs(sum(widths) - TEXT_WIDTH_MM) < 0.1
    assert all(widths[i] <= 25 for i in narrow), widths
    assert widths[wide] == max(widths) and widths[wide] >= 2 * widths[0]
    return widths


@pytest.fixture
def plan(small_plan: Plan) -> Plan:
    return scoring_plan(small_plan)


def _record(plan: Plan) -> VillageRecord:
    """Thôn 1's record: two months due, one on time, one late; a good deed accepted and
    taken to Bồi dưỡng."""
    at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    nomination = Nomination(
        1, "ĐC-2026-0001", 1, "Bà Hoa", "thon_1", "Nhặt được ví trả lại", "Người tốt việc tốt",
        "boi_duong", at, at,
    )  # fmt: skip
    events = (
        NominationEvent(1, at, 1, "sent", "review"),
        NominationEvent(1, at, 2, "accepted", "phat_hien"),
        NominationEvent(1, datetime(2026, 4, 10, 3, 0, tzinfo=UTC), 2, "advanced", "boi_duong"),
    )
    return VillageRecord(
        "thon_1",
        (
            ReportDue(
                "Báo cáo tháng",
                parse_period("2026-10"),
                date(2026, 10, 25),
                datetime(2026, 10, 20, 3, 0, tzinfo=UTC),
                True,
            ),
            ReportDue(
                "Báo cáo tháng",
                parse_period("2026-11"),
                date(2026, 11, 25),
                datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
                False,
            ),
        ),
        (GoodDeed(nomination, at, events),),
    )


def test_the_achievement_report_carries_the_villages_figures(plan: Plan) -> None:
    board = hand_board(plan, final=True)
    doc = Document(io.BytesIO(achievement_report(plan, board, _record(plan))))
    _check_page_and_fonts(doc)
    _check_heading(doc, ["UBND XÃ THỬ", "THÔN 1"])
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO THÀNH TÍCH")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].bold
    text = _text(doc)
    assert "Đề nghị công nhận xếp loại “Xuất sắc” trong phong trào thi đua năm 2026" in text
    # each criterion: its target, what was achieved with the data behind it, its points
    criteria = _rows(_tables(doc)[1])
    assert criteria[0] == ["STT", "Tiêu chí", "Chỉ tiêu", "Kết quả đạt được (số liệu)", "Điểm"]
    assert criteria[1] == [
        "1",
        "Điện lưới",
        "≥ 100% (0 điểm khi ≤ 50%)",
        "1.140/1.200 hộ = 95% (tháng 11/2026, báo cáo số 17)",
        "9/10",
    ]
    # a yes/no indicator: the village's own answer, not "100%"
    assert criteria[2] == [
        "2",
        "Thu gom rác",
        "≥ 100%",
        "Có (tháng 11/2026, báo cáo số 17)",
        "10/10",
    ]
    assert criteria[3][3:] == ["11/12 báo cáo đúng hạn", "13,8/15"]
    assert criteria[-1] == ["", "Tổng cộng", "", "", "47,8/50"]
    assert (
        "Tổng điểm: 47,8/50 điểm; xếp hạng 1/3 thôn; xếp loại đề nghị: Xuất sắc (bằng điểm)."
        in text
    )
    assert "ĐÃ CHỐT ngày 20/12/2026 bởi Hội đồng TĐKT, họp ngày 20/12/2026" in text
    # the reporting record
    assert "thôn có 2 báo cáo đến hạn, đã gửi 2, trong đó 1 báo cáo đúng hạn" in text
    reports = _rows(_tables(doc)[2])
    assert reports[1][2:] == ["tháng 10/2026", "25/10/2026", "20/10/2026", "đúng hạn"]
    assert reports[2][2:] == ["tháng 11/2026", "25/11/2026", "26/11/2026", "gửi muộn"]
    # the good deeds with their stages
    deeds = _rows(_tables(doc)[3])
    assert deeds[1][1:3] == ["ĐC-2026-0001", "Bà Hoa"]
    assert deeds[1][4] == "Phát hiện 2/3/2026; Bồi dưỡng 10/4/2026"
    # fixed column widths fitted to the content: narrow number and points columns
    criteria_widths = _check_table_widths(_tables(doc)[1], narrow=(0, 4), wide=3)
    assert criteria_widths[0] < criteria_widths[4] < criteria_widths[1]
    _check_table_widths(_tables(doc)[2], narrow=(0,), wide=1)
    _check_table_widths(_tables(doc)[3], narrow=(0,), wide=3)
    assert all(_tables(doc)[1].rows[i].cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
               for i in (1, 2))  # fmt: skip
    # headed blanks for what only people write
    lines = [p.text for p in doc.paragraphs]
    for heading in (
        "I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH",
        "4. Giải pháp, kinh nghiệm",
        "III. KIẾN NGHỊ, ĐỀ XUẤT",
    ):
        at = lines.index(heading)
        assert BLANK in lines[at + 1 : at + 4]
    body = next(p for p in doc.paragraphs if p.text.startswith("Tên tập thể đề nghị"))
    assert body.text == "Tên tập thể đề nghị: Thôn 1, xã Thử."  # the commune inside a sentence
    assert body.paragraph_format.alignment in (None, WD_ALIGN_PARAGRAPH.JUSTIFY)
    assert doc.styles["Normal"].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    signatures = _rows(_tables(doc)[-1])[0]
    assert [round(w) for w in _column_widths(_tables(doc)[-1])] == [82, 82]
    assert signatures[0].startswith("XÁC NHẬN CỦA UBND XÃ")
    assert signatures[1].startswith("TRƯỞNG THÔN\n(Ký, ghi rõ họ tên)")


def test_a_village_without_reports_or_deeds_says_so(plan: Plan) -> None:
    board = hand_board(plan)
    doc = Document(io.BytesIO(achievement_report(plan, board, VillageRecord("thon_3"))))
    text = _text(doc)
    assert "Đến hết ngày 20/12/2026, thôn chưa có báo cáo nào đến hạn." in text
    assert "Trong năm chưa có gương người tốt, việc tốt nào của thôn được ghi nhận." in text
    assert "Tiêu chí thiếu số liệu (0 điểm): Điện lưới, Thu gom rác." in text
    assert "TẠM TÍNH" in text


def test_the_minutes_list_every_village_and_the_ties(plan: Plan) -> None:
    board = hand_board(plan)
    doc = Document(io.BytesIO(council_minutes(plan, board, "bang-diem-2026.xlsx")))
    _check_page_and_fonts(doc)
    # the unit too long for one line of the column: broken after the dash, in one paragraph
    _check_heading(doc, ["UBND XÃ THỬ", "HỘI ĐỒNG THI ĐUA –\nKHEN THƯỞNG"])
    text = _text(doc)
    assert "BIÊN BẢN" in [p.text for p in doc.paragraphs]
    assert (
        "Hội đồng Thi đua – Khen thưởng xã Thử họp xét kết quả phong trào thi đua năm 2026 của "
        "3 thôn." in text
    )
    _check_table_widths(_tables(doc)[1], narrow=(0, 2), wide=4)  # Hạng, Tổng điểm; Ghi chú
    _check_table_widths(_tables(doc)[2], narrow=(0, 3, 4), wide=2)  # STT, the votes
    results, votes = (_rows(t) for t in _tables(doc)[1:3])
    assert results[1:] == [
        ["1", "Thôn 1", "47,8", "Xuất sắc", "bằng điểm tại ngưỡng"],
        ["1", "Thôn 2", "47,8", "Tốt", "bằng điểm tại ngưỡng"],
        ["3", "Thôn 3", "2,5", "Chưa hoàn thành", "thiếu số liệu: Điện lưới, Thu gom rác"],
    ]
    assert [row[1] for row in votes[1:]] == ["Thôn 1", "Thôn 2", "Thôn 3"]
    assert votes[0][3:5] == ["Đồng ý", "Không đồng ý"] and votes[1][3] == "……/……"
    assert (
        "Bằng điểm tại ngưỡng giới hạn số thôn của một xếp loại, đề nghị Hội đồng xem xét: "
        "Thôn 1, Thôn 2." in text
    )
    assert "Tổng hợp xếp loại đề nghị: Xuất sắc: 1 thôn; Tốt: 1 thôn; Hoàn thành: 0 thôn" in text
    for blank in ("Chủ trì: ……", "Thư ký: ……", "Thành viên Hội đồng có mặt: ……/……"):
        assert blank in text
    assert "niêm yết công khai" in text and "trong 10 ngày" in text
    assert "(bang-diem-2026.xlsx)" in text
    assert _rows(_tables(doc)[-1])[0][1].startswith("CHỦ TỊCH HỘI ĐỒNG")
    # without ties, the minutes say there are none
    untied = replace(board, ties=(), villages=tuple(replace(v, tie=False) for v in board.villages))
    untied_doc = Document(io.BytesIO(council_minutes(plan, untied)))
    assert "Không có thôn nào bằng điểm tại ngưỡng xếp loại." in _text(untied_doc)


def _without_data(board: Board, village: int, criteria: int) -> Board:
    """``board`` with the first ``criteria`` criteria of its ``village``-th village without
    data."""
    score = board.villages[village]
    items = tuple(
        replace(item, evidence=Evidence(None), claim=None) if index < criteria else item
        for index, item in enumerate(score.criteria)
    )
    villages = list(board.villages)
    villages[village] = replace(score, criteria=items)
    return replace(board, villages=tuple(villages))


def test_the_minutes_count_a_long_list_of_missing_criteria(plan: Plan) -> None:
    """Up to three criteria without data are named; past three, counted (a commune where
    most villages have not reported would otherwise have pages of names)."""
    three = _without_data(hand_board(plan), 2, 3)
    results = _rows(_tables(Document(io.BytesIO(council_minutes(plan, three))))[1])
    assert results[3][4] == "thiếu số liệu: Điện lưới, Thu gom rác, Báo cáo đúng hạn"
    four = _without_data(hand_board(plan), 2, 4)
    doc = Document(io.BytesIO(council_minutes(plan, four)))
    results = _rows(_tables(doc)[1])
    assert results[3][4] == "thiếu số liệu ở 4/5 tiêu chí"
    assert "Điện lưới" not in _text(doc)
    # the village's own report still names every one
    report = Document(io.BytesIO(achievement_report(plan, four, VillageRecord("thon_3"))))
    assert (
        "Tiêu chí thiếu số liệu (0 điểm): Điện lưới, Thu gom rác, Báo cáo đúng hạn, "
        "Báo cáo đầy đủ." in _text(report)
    )


def test_a_yes_no_indicator_reads_co_or_khong(plan: Plan) -> None:
    board = hand_board(plan, final=True)
    first = board.villages[0]
    no = replace(first.criteria[1], evidence=Evidence(Decimal(0), period="2026-11", report_id=17))
    board = replace(
        board,
        villages=(replace(first, criteria=(first.criteria[0], no, *first.criteria[2:])),
                  *board.villages[1:]),
    )  # fmt: skip
    doc = Document(io.BytesIO(achievement_report(plan, board, _record(plan))))
    assert _rows(_tables(doc)[1])[2][3] == "Không (tháng 11/2026, báo cáo số 17)"
    # the same words in the workbook's evidence sheet
    assert evidence_text(plan, no) == "Không (tháng 11/2026, báo cáo số 17)"
    # a ratio is not a yes/no
    assert evidence_text(plan, first.criteria[0]).startswith("1.140/1.200 hộ = 95%")


def test_file_names_are_ascii_and_stable(plan: Plan) -> None:
    assert report_file_name("thon_1", 2026) == "bao-cao-thanh-tich-thon_1-2026.docx"
    assert report_file_name("Thôn Đồi/..", 2026) == "bao-cao-thanh-tich-thon-doi-2026.docx"
    assert proposed_villages(plan, hand_board(plan)) == ["thon_1"]


def test_the_dossier_from_a_real_database(env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    asyncio.run(seed(env / "thidua.db", tie=True))
    code = main(["dossier", "--year", "2026", "--out", "ho-so"])
    out, err = capsys.readouterr()
    assert code == 0, err
    folder = env / "ho-so"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "bang-diem-2026.xlsx",
        "bao-cao-thanh-tich-thon_1-2026.docx",  # the only one proposed for Xuất sắc
        "bien-ban-hop-xet-2026.docx",
    ]
    assert out.splitlines() == [
        str(Path("ho-so") / name) for name in (names[0], names[1], names[2])
    ]
    assert "chưa được Hội đồng chốt" in err
    report = Document(str(folder / "bao-cao-thanh-tich-thon_1-2026.docx"))
    text = _text(report)
    # 1.140/1.200 = 95 % → 9; 11/11 on time → 15; 11/11 → 5; four deeds → 10; waste → 10
    assert "1 | Điện lưới | ≥ 100% (0 điểm khi ≤ 50%) | 1.140/1.200 hộ = 95% (tháng 11/2026" in text
    assert (
        "Tổng điểm: 49/50 điểm; xếp hạng 1/3 thôn; xếp loại đề nghị: Xuất sắc (bằng điểm)." in text
    )
    assert "thôn có 11 báo cáo đến hạn, đã gửi 11, trong đó 11 báo cáo đúng hạn" in text
    deeds = _rows(_tables(report)[3])
    # accepted in 2026 only: not the one refused, not the one of 2025
    assert [row[1] for row in deeds[1:]] == [f"ĐC-2026-000{n}" for n in (1, 2, 3, 4)]
    assert deeds[1][4] == "Phát hiện 2/3/2026; Bồi dưỡng 10/5/2026"
    minutes = Document(str(folder / "bien-ban-hop-xet-2026.docx"))
    results = _rows(_tables(minutes)[1])
    assert [row[1:4] for row in results[1:]] == [
        ["Thôn 1", "49", "Xuất sắc"],
        ["Thôn 2", "49", "Tốt"],
        ["Thôn 3", "0", "Chưa hoàn thành"],
    ]
    assert "xem xét: Thôn 1, Thôn 2." in _text(minutes)
    book = load_workbook(folder / "bang-diem-2026.xlsx")
    assert [r[1] for r in book.worksheets[0].iter_rows(min_row=5, max_row=7, values_only=True)] == [
        "Thôn 1",
        "Thôn 2",
        "Thôn 3",
    ]
    # chosen villages, by id or name; the board frozen, nothing is flagged as provisional
    by = "Hội đồng TĐKT, họp ngày 20/12/2026"
    assert main(["score", "--year", "2026", "--finalize", "--by", by]) == 0
    capsys.readouterr()
    code = main(["dossier", "--year", "2026", "--out", "ho-so-2", "--villages", "thon_3, Thôn 2"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert sorted(p.name for p in (env / "ho-so-2").iterdir()) == [
        "bang-diem-2026.xlsx",
        "bao-cao-thanh-tich-thon_2-2026.docx",
        "bao-cao-thanh-tich-thon_3-2026.docx",
        "bien-ban-hop-xet-2026.docx",
    ]
    third = _text(Document(str(env / "ho-so-2" / "bao-cao-thanh-tich-thon_3-2026.docx")))
    assert "thôn có 11 báo cáo đến hạn, đã gửi 0, trong đó 0 báo cáo đúng hạn" in third
    assert "ĐÃ CHỐT ngày 20/12/2026 bởi Hội đồng TĐKT" in third


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--out THƯ-MỤC"),
        (["--out", "x", "--villages", "Thôn 99,thon_1"], "Không có thôn “Thôn 99” trong kế hoạch"),
        (["--out", "x", "--villages", " , "], "--villages cần ít nhất một thôn"),
        (["--out", "x", "--as-of", "hôm qua"], "không hợp lệ"),
        (["--out", "x", "--year", "2023"], "Kế hoạch không chấm điểm năm 2023"),
    ],
)
def test_dossier_misuse(
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    year = [] if "--year" in args else ["--year", "2026"]
    code = main(["dossier", *year, *args])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and message in err
    assert not (env / "x").exists()
