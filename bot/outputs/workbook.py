"""The XLSX workbook for the secretariat: a summary sheet, the scoreboard, one sheet per
form, and the nominations with their history."""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.domain import Nomination, NominationEvent
from bot.i18n import _
from bot.nominations.rules import status_name
from bot.outputs.digest import FormSection, target_text, verdict_text
from bot.outputs.export import looks_like_formula, question_header, village_label, village_names
from bot.outputs.scoreboard import write_board_sheet
from bot.plan.model import Plan, Question
from bot.scoring.board import Board

BOLD = Font(bold=True)
SHEET_TITLE_LIMIT = 31  # Excel's limit for a sheet name


def _cell(question: Question, value: Any) -> Any:
    """Numbers as numbers, yes/no as Có/Không, text as typed (``_append`` keeps it a
    text), skipped as empty."""
    if value is None:
        return None
    if question.type == "yes_no":
        return _("Có") if value else _("Không")
    if question.numeric:
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(value, dict):
        return str(value.get("file_id", ""))
    return str(value)


def _text(sheet: Any, text: str) -> Cell:
    """A string cell showing ``text`` exactly as typed. Never a formula or an error cell
    (openpyxl makes one of any text starting with ``=`` or equal to ``#N/A``); when the text
    looks like a formula, the cell is also marked quote-prefixed, as if typed after a ``'``,
    so a spreadsheet keeps it a text even when someone edits it. Control characters a
    workbook cannot hold (stored before texts were cleaned) are left out."""
    cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True
    return cell


def _append(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row to ``sheet``; every text in it goes in by ``_text``. The workbook holds
    no formulas, so no text — a name, a deed, a comment — can ever become one."""
    sheet.append([_text(sheet, v) if isinstance(v, str) else v for v in values])


# Characters a sheet's name cannot hold (Excel refuses the workbook otherwise).
_SHEET_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


def _shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: cut at a word when one ends in the second half,
    with ``…`` to say so."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def sheet_title(form_title: str, period_key: str, used: Collection[str] = ()) -> str:
    """A sheet's name for one form's period: the form's title, shortened when needed, then
    the period whole (``Báo cáo tuần về an… 2026-W48``), within Excel's 31 characters and
    without the characters it refuses; ``(2)``, ``(3)``… before the period when the name is
    taken (Excel compares names ignoring case)."""
    base = _SHEET_FORBIDDEN.sub("-", form_title).strip().strip("'")
    taken = {t.casefold() for t in used}
    tail = f" {period_key}"
    title = _shorten(base, SHEET_TITLE_LIMIT - len(tail)) + tail
    number = 2
    while title.casefold() in taken:
        mark = f" ({number}){tail}"
        title = _shorten(base, SHEET_TITLE_LIMIT - len(mark)) + mark
        number += 1
    return title


def _fit(sheet: Any) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


@dataclass(frozen=True)
class NominationRow:
    """A nomination for the workbook, with its history and the names of those involved."""

    nomination: Nomination
    events: list[NominationEvent]
    names: Mapping[int, str]  # person id -> name


def build_workbook(
    plan: Plan,
    sections: list[FormSection],
    nominations: Sequence[NominationRow] = (),
    board: Board | None = None,
) -> bytes:
    """The workbook: the summary sheet, the ``Bảng điểm`` sheet when there is a ``board``
    (``bot.outputs.scoreboard.write_board_sheet``), a sheet per form's period, and the
    nominations."""
    book = Workbook()
    summary = book.active
    summary.title = _("Tổng hợp")[:SHEET_TITLE_LIMIT]
    _append(summary, [plan.title, plan.commune])
    summary["A1"].font = BOLD
    _append(summary, [])
    _append(summary, [_("Biểu mẫu"), _("Kỳ"), _("Đã báo cáo"), _("Đúng hạn"), _("Số thôn")])
    for cell in summary[summary.max_row]:
        cell.font = BOLD
    for section in sections:
        status = section.reporting
        _append(
            summary,
            [
                plan.form(section.form_id).title,
                status.period.key,
                len(status.reported),
                len(status.on_time),
                len(status.expected),
            ],
        )
    _append(summary, [])
    _append(
        summary,
        [
            _("Chỉ tiêu"),
            _("Kỳ"),
            _("Giá trị"),
            _("Đơn vị"),
            _("Mục tiêu"),
            _("Số thôn có số liệu"),
            _("Số thôn"),
            _("Đánh giá"),
        ],
    )
    for cell in summary[summary.max_row]:
        cell.font = BOLD
    for section in sections:
        for figure in section.figures:
            _append(
                summary,
                [
                    figure.indicator.title,
                    section.reporting.period.key,
                    None if figure.value is None else round(float(figure.value), 1),
                    figure.unit,
                    target_text(figure),
                    figure.counted,
                    figure.total,
                    verdict_text(figure),
                ],
            )
    _fit(summary)

    names = village_names(plan)
    used_titles = {summary.title}
    if board is not None:
        scores = book.create_sheet(_("Bảng điểm")[:SHEET_TITLE_LIMIT])
        write_board_sheet(scores, plan, board)
        used_titles.add(scores.title)
    for section in sections:
        form = plan.form(section.form_id)
        title = sheet_title(form.title, section.reporting.period.key, used_titles)
        used_titles.add(title)
        sheet = book.create_sheet(title)
        header = [_("Thôn")] + [question_header(q) for q in form.questions]
        _append(sheet, header)
        for cell in sheet[1]:
            cell.font = BOLD
        for village_id in section.reporting.expected:
            answers = section.answers.get(village_id)
            row = [village_label(names, village_id)]
            if answers is not None:
                row += [_cell(q, answers.get(q.id)) for q in form.questions]
            _append(sheet, row)
        sheet.freeze_panes = "B2"
        _fit(sheet)
    if nominations:
        _nominations_sheet(book, plan, nominations)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _nominations_sheet(book: Any, plan: Plan, rows: Sequence[NominationRow]) -> None:
    """One row per nomination; its history (when, who, what, comment) in the last column."""
    sheet = book.create_sheet(_("Đề cử")[:SHEET_TITLE_LIMIT])
    _append(
        sheet,
        [
            _("Số"),
            _("Người được đề cử"),
            _("Thôn"),
            _("Loại"),
            _("Việc làm"),
            _("Người đề cử"),
            _("Giai đoạn"),
            _("Ngày gửi"),
            _("Lịch sử"),
        ],
    )
    for cell in sheet[1]:
        cell.font = BOLD
    villages = village_names(plan)
    for row in rows:
        n = row.nomination
        history = "\n".join(
            " – ".join(
                part
                for part in (
                    f"{event.at.astimezone(plan.tz):%d/%m/%Y %H:%M}",
                    row.names.get(event.person_id or 0, ""),
                    status_name(event.status),
                    event.comment,
                )
                if part
            )
            for event in row.events
        )
        _append(
            sheet,
            [
                n.number,
                n.nominee,
                village_label(villages, n.village_id),
                n.kind,
                n.deed,
                row.names.get(n.nominator_id, ""),
                status_name(n.status),
                n.created_at.astimezone(plan.tz).date(),
                history,
            ],
        )
    sheet.freeze_panes = "B2"
    _fit(sheet)
