"""Exports never carry spreadsheet formulas: every text a person gave — names, typed and
chosen answers, nominees, deeds, comments — is neutralised in the CSV and can only be a
string cell in the XLSX workbook, while numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

from bot.domain import Identity, Nomination, NominationEvent, Person, Report
from bot.outputs.digest import FormSection, indicator_figures, reporting
from bot.outputs.export import (
    BOM,
    FORMULA_STARTS,
    looks_like_formula,
    spreadsheet_csv,
    spreadsheet_safe,
    to_csv,
)
from bot.outputs.workbook import NominationRow, build_workbook, sheet_title
from bot.plan.model import Plan, check_plan_text
from bot.plan.periods import parse_period

AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
# One text a person could type for each start a spreadsheet may take for a formula.
HYPERLINK = '=HYPERLINK("http://x","bấm")'
PLUS = "+84 912 345 678"
MINUS = "-1+1"
AT_SIGN = "@SUM(1,2)"
TAB = "\t=1+1"
CR = "\r=1+1"
DANGEROUS = (HYPERLINK, PLUS, MINUS, AT_SIGN, TAB, CR)


def line_feeds(text: str) -> str:
    """``text`` with its carriage returns made line feeds: what the CSV holds (the csv
    module would leave a lone one unquoted)."""
    return text.replace("\r", "\n")


def person(person_id: int, name: str, user_id: str = "101") -> Person:
    return Person(
        person_id,
        name,
        "head",
        "thon_1",
        "vi",
        AT,
        identities=(Identity("telegram", user_id, user_id, display_name=name),),
    )


PEOPLE = {i: person(i, name, str(100 + i)) for i, name in enumerate(DANGEROUS, start=1)}


def report(report_id: int, village_id: str, submitted_by: int, **answers: Any) -> Report:
    base: dict[str, Any] = {
        "tong_ho": "120",
        "ho_co_dien": "100",
        "thu_gom_rac": True,
        "dien_tich_lua": "-2.5",  # a parsed number, even a negative one, is no formula
        "loai": "Thôn văn hóa",
        "ghi_chu": None,
    }
    return Report(report_id, village_id, "thang", "2026-11", 1, AT, submitted_by,
                  {**base, **answers})  # fmt: skip


REPORTS = [
    report(1, "thon_1", 1, ghi_chu=HYPERLINK, loai=MINUS),
    report(2, "thon_2", 2, ghi_chu=TAB, loai=AT_SIGN),
    report(3, "thon_3", 6, ghi_chu=CR, loai=PLUS),
    report(4, "thon_1", 99, ghi_chu="Bình thường\r=1+1"),  # someone no longer known: #99
]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_dangerous_start_is_neutralised_in_a_csv_field(start: str) -> None:
    text = f"{start}cmd|' /C calc'!A0"
    assert looks_like_formula(text)
    assert spreadsheet_safe(text) == line_feeds("'" + text)


@pytest.mark.parametrize("text", ["Nguyễn An", "", " =1", "#N/A", "12", "'=1", "a=b"])
def test_other_texts_are_left_as_they_are(text: str) -> None:
    assert not looks_like_formula(text)
    assert spreadsheet_safe(text) == text


def test_the_six_starts_are_owasps() -> None:
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}


def test_csv_neutralises_every_text_a_person_gave(small_plan: Plan) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(small_plan, REPORTS, PEOPLE))))
    assert len(rows) == 4 * 6
    numeric = {q.id for q in small_plan.form("thang").questions if q.numeric}
    for row in rows:
        for column, field in row.items():
            if column == "value" and row["question"] in numeric:
                continue  # machine-form numbers, checked below
            assert not looks_like_formula(field), (column, field)
    values = {(r["village"], r["question"]): r for r in rows if r["submitted_by"] != "#99"}
    assert values["Thôn 1", "ghi_chu"]["value"] == "'" + HYPERLINK
    assert values["Thôn 1", "loai"]["value"] == "'" + MINUS
    assert values["Thôn 2", "ghi_chu"]["value"] == "'" + TAB
    assert values["Thôn 2", "loai"]["value"] == "'" + AT_SIGN
    assert values["Thôn 3", "ghi_chu"]["value"] == "'\n=1+1"
    assert values["Thôn 3", "loai"]["value"] == "'" + PLUS
    assert values["Thôn 1", "tong_ho"]["submitted_by"] == f"'{HYPERLINK} (telegram:101)"
    assert values["Thôn 2", "tong_ho"]["submitted_by"] == f"'{PLUS} (telegram:102)"
    assert values["Thôn 3", "tong_ho"]["submitted_by"] == "'\n=1+1 (telegram:106)"
    # numbers stay in machine form, a negative one included; yes/no as yes/no
    assert values["Thôn 1", "dien_tich_lua"]["value"] == "-2.5"
    assert values["Thôn 1", "tong_ho"]["value"] == "120"
    assert values["Thôn 1", "thu_gom_rac"]["value"] == "yes"
    unknown = [r for r in rows if r["submitted_by"] == "#99"]
    # a carriage return inside a text ends no row: the field stays one quoted field
    assert {r["question"]: r["value"] for r in unknown}["ghi_chu"] == "Bình thường\n=1+1"


def workbook_data(plan: Plan) -> tuple[list[FormSection], list[NominationRow]]:
    """A digest's data built by hand: one section of November's answers (as storage gives
    them: village -> answers) and two nominations with their history."""
    period = parse_period("2026-11")
    current = {r.village_id: r.answers for r in REPORTS[:3]}
    sections = [
        FormSection(
            "thang",
            reporting(plan, "thang", period, {v: AT for v in current}),
            indicator_figures(plan, "thang", current, {}),
            current,
        )
    ]
    names = {i: p.name for i, p in PEOPLE.items()}
    nomination = Nomination(1, "ĐC-2026-0001", 1, HYPERLINK, "thon_2", TAB, AT_SIGN, "review",
                            AT, AT)  # fmt: skip
    unknown_village = Nomination(2, "ĐC-2026-0002", 2, CR, "=thon_9", MINUS, PLUS, "review",
                                 AT, AT)  # fmt: skip
    events = [
        NominationEvent(1, AT, 3, "sent", "review", comment=MINUS),
        NominationEvent(1, AT, 4, "asked", "needs_info", comment=HYPERLINK),
    ]
    rows = [
        NominationRow(nomination, events, names),
        NominationRow(unknown_village, [], names),
    ]
    return sections, rows


def test_xlsx_holds_texts_as_typed_never_as_formulas(small_plan: Plan) -> None:
    sections, nominations = workbook_data(small_plan)
    book = load_workbook(io.BytesIO(build_workbook(small_plan, sections, nominations)))
    cells: list[Cell] = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c for c in cells if isinstance(c.value, str)]
    assert [c.coordinate for c in texts if c.data_type != "s"] == []
    # a spreadsheet keeps a text that looks like a formula a text, even when edited
    assert [c.coordinate for c in texts if looks_like_formula(c.value) and not c.quotePrefix] == []
    quoted = {c.value for c in texts if c.quotePrefix}
    # openpyxl writes through lxml (python-docx's dependency), which keeps a carriage
    # return as &#13;: the cell reads back exactly as typed
    assert quoted == {*DANGEROUS, "=thon_9"}
    assert not any(c.quotePrefix for c in cells if not isinstance(c.value, str))

    answers = book.worksheets[1]
    table = {row[0].value: row for row in answers.iter_rows(min_row=2)}
    header = [c.value for c in next(answers.iter_rows())]
    note, kind = header.index("Ghi chú"), header.index("Danh hiệu")
    assert [table[v][note].value for v in ("Thôn 1", "Thôn 2", "Thôn 3")] == [
        HYPERLINK, TAB, CR
    ]  # fmt: skip
    assert [table[v][kind].value for v in ("Thôn 1", "Thôn 2", "Thôn 3")] == [
        MINUS, AT_SIGN, PLUS
    ]  # fmt: skip
    for village in ("Thôn 1", "Thôn 2", "Thôn 3"):  # numbers are still number cells
        tong_ho, ho_co_dien, rac, lua = (c.value for c in table[village][1:5])
        assert (tong_ho, ho_co_dien, rac, lua) == (120, 100, "Có", -2.5)
        assert isinstance(tong_ho, int) and isinstance(lua, float)
        assert table[village][1].data_type == "n" and table[village][4].data_type == "n"

    sheet = book["Đề cử"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    first = rows["ĐC-2026-0001"]
    assert first[1:6] == [HYPERLINK, "Thôn 2", AT_SIGN, TAB, HYPERLINK]
    history = str(first[8]).splitlines()
    assert history == [
        f"20/11/2026 10:00 – {MINUS} – Chờ xét – {MINUS}",
        f"20/11/2026 10:00 – {AT_SIGN} – Chờ bổ sung – {HYPERLINK}",
    ]
    second = rows["ĐC-2026-0002"]
    assert second[1:6] == [CR, "=thon_9", PLUS, MINUS, PLUS]


def test_the_spreadsheet_csv_neutralises_every_text_a_person_gave(small_plan: Plan) -> None:
    text = spreadsheet_csv(small_plan, REPORTS, PEOPLE)
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == 4  # one row per report
    numbers = {"Tổng số hộ (hộ)", "Hộ có điện (hộ)", "Diện tích lúa (ha)"}
    for row in body:
        for column, field in zip(header, row, strict=True):
            if column not in numbers:
                assert not looks_like_formula(field), (column, field)
    first = dict(zip(header, body[0], strict=True))
    assert first["Ghi chú"] == "'" + HYPERLINK and first["Danh hiệu"] == "'" + MINUS
    assert first["Người gửi"] == f"'{HYPERLINK} (telegram:101)"
    assert first["Diện tích lúa (ha)"] == "-2,5"  # a number, a decimal comma
    assert dict(zip(header, body[2], strict=True))["Ghi chú"] == "'\n=1+1"


WEEKLY_PLAN = """\
plan: 1
title: T
commune: X
timezone: Asia/Ho_Chi_Minh
villages: [Thôn 1, Thôn 2, Thôn 3]
forms:
  - id: tuan
    title: Báo cáo tuần về an ninh trật tự
    period: week
    due: 7
    questions:
      - id: vu_viec
        ask: Tuần này có bao nhiêu vụ việc?
        label: Số vụ việc
        type: integer
        unit: vụ
indicators:
  - {id: tong_vu, title: Tổng số vụ việc, sum: vu_viec}
"""


def test_weekly_sheets_carry_their_week_in_their_name() -> None:
    plan, problems = check_plan_text(WEEKLY_PLAN)
    assert plan is not None, problems
    sections = []
    for key, final in (("2026-W47", True), ("2026-W48", False)):
        answers = {"thon_1": {"vu_viec": "2"}}
        sections.append(
            FormSection(
                "tuan",
                reporting(plan, "tuan", parse_period(key), {"thon_1": AT}),
                indicator_figures(plan, "tuan", answers, {}),
                answers,
                final=final,
            )
        )
    book = load_workbook(io.BytesIO(build_workbook(plan, sections)))
    names = book.sheetnames[1:]
    assert len(names) == 2 and len(set(names)) == 2
    assert names[0].endswith(" 2026-W47") and names[1].endswith(" 2026-W48")
    assert all(n.startswith("Báo cáo tuần về an") and len(n) <= 31 for n in names)
    assert sheet_title("Báo cáo tháng", "2026-11", ["BÁO CÁO THÁNG 2026-11"]) == (
        "Báo cáo tháng (2) 2026-11"
    )  # Excel compares names ignoring case
    assert sheet_title("Tháng 11/2026: [A]?", "2026-11") == "Tháng 11-2026- -A-- 2026-11"


def test_the_summary_sheet_says_what_each_figure_stands_on(small_plan: Plan) -> None:
    period = parse_period("2026-11")
    current = {"thon_1": REPORTS[0].answers}
    section = FormSection(
        "thang",
        reporting(small_plan, "thang", period, {"thon_1": AT}),
        indicator_figures(small_plan, "thang", current, {}),
        current,
    )
    book = load_workbook(io.BytesIO(build_workbook(small_plan, [section])))
    rows = {row[0].value: [c.value for c in row] for row in book.worksheets[0].iter_rows()}
    header = rows["Chỉ tiêu"]
    power = dict(zip(header, rows["Tỷ lệ hộ dùng điện lưới"], strict=True))
    assert power["Giá trị"] == 83.3 and power["Đơn vị"] == "%"
    assert (power["Số thôn có số liệu"], power["Số thôn"]) == (1, 3)
    assert power["Đánh giá"] == "chưa đủ số liệu (1/3 thôn)"
    assert power["Mục tiêu"] == "≥ 100%"
