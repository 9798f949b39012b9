"""The scoreboard for people: an aligned text table, a workbook sheet, and the words that
say what each criterion's points stand on.

Pure rendering of a ``bot.scoring.board.Board``: points are rounded to one decimal and
written the Vietnamese way (``14,3``), dates as ``20/12/2026``; the JSON contract, at full
precision, is ``bot.scoring.rules.board_json_text``.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.i18n import DAY, _, format_date, format_number
from bot.outputs.export import looks_like_formula
from bot.plan.model import Criterion, Indicator, Plan, Target
from bot.plan.periods import parse_period
from bot.scoring.board import Board, CriterionScore, VillageScore

ONE_DECIMAL = Decimal("0.1")
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
MISSING_MARK = "*"  # after a criterion's points when the village has no data for it
CLAIM_MARK = "†"  # after points an accepted self-assessment claim set
BOLD = Font(bold=True)
POINTS_FORMAT = "0.0"  # a spreadsheet shows it with the reader's decimal mark (14,3)


# -- numbers and words ------------------------------------------------------------------


def rounded(value: Decimal) -> Decimal:
    """``value`` to one decimal, halves away from zero (what text and sheets show)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def points_text(value: Decimal) -> str:
    """Points to one decimal, without a trailing zero: ``14,3``, ``15``."""
    return format_number(rounded(value).normalize())


def percent_text(value: Decimal) -> str:
    """A percentage to one decimal: ``95%``, ``87,5%``."""
    return points_text(value) + "%"


def number_text(value: Decimal) -> str:
    """A count or amount as typed in a report, in Vietnamese format (``1.140``, ``12,5``)."""
    return format_number(value.normalize() if value == value.to_integral_value() else value)


def period_text(key: str) -> str:
    """A period key (``2026-11``) as people read it (``tháng 11/2026``); the key itself
    when it is not one."""
    try:
        return parse_period(key).label()
    except ValueError:
        return key


def _indicator(plan: Plan, criterion: Criterion) -> Indicator | None:
    if criterion.indicator is None:
        return None
    try:
        return plan.indicator(criterion.indicator)
    except KeyError:  # a frozen board may name an indicator the plan has dropped since
        return None


def criterion_target(plan: Plan, criterion: Criterion) -> Target | None:
    """The target an indicator criterion is scored against: its own, else its indicator's."""
    if criterion.target is not None:
        return criterion.target
    indicator = _indicator(plan, criterion)
    return indicator.target if indicator is not None else None


def target_text(plan: Plan, criterion: Criterion) -> str:
    """What the criterion asks for, in words: ``≥ 95%``, ``giảm ≥ 1 điểm phần trăm``,
    ``mọi báo cáo đúng hạn``, ``2,5 điểm mỗi gương, tối đa 10 điểm``."""
    if criterion.measure == "on_time":
        return _("mọi báo cáo đến hạn được gửi đúng hạn")
    if criterion.measure == "completeness":
        return _("gửi đủ mọi báo cáo đến hạn")
    if criterion.measure == "good_deeds":
        return _("{per_item} điểm mỗi gương được ghi nhận, tối đa {points} điểm").format(
            per_item=points_text(criterion.per_item or Decimal(0)),
            points=points_text(criterion.points),
        )
    # Imported here: the rules read the digest's module, which may one day read this one.
    from bot.scoring.rules import zero_at

    target = criterion_target(plan, criterion)
    if target is None:
        return "—"
    op = _OPS.get(target.op, target.op)
    zero = zero_at(criterion, target)
    if target.direction is None:
        text = f"{op} {percent_text(target.value)}"
        zero_text = percent_text(zero)
    else:
        template = (
            _("giảm {op} {value} điểm phần trăm")
            if target.direction == "decrease"
            else _("tăng {op} {value} điểm phần trăm")
        )
        text = template.format(op=op, value=points_text(target.value))
        zero_text = _("{value} điểm phần trăm").format(value=points_text(zero))
    if target.op == "==" or zero == target.value or (target.op in (">=", ">") and zero == 0):
        return text
    at_zero = "≤" if target.op in (">=", ">") else "≥"
    return _("{target} (0 điểm khi {op} {zero})").format(target=text, op=at_zero, zero=zero_text)


def _fraction(score: CriterionScore) -> str | None:
    """``1.140/1.200 người`` when the evidence has both numbers."""
    evidence = score.evidence
    if evidence.numerator is None or evidence.denominator is None:
        return None
    text = f"{number_text(evidence.numerator)}/{number_text(evidence.denominator)}"
    return f"{text} {evidence.unit}" if evidence.unit else text


def evidence_text(plan: Plan, score: CriterionScore) -> str:
    """What the criterion's points stand on, so anyone can recompute them from the
    village's reports: ``1.140/1.200 người = 95% (tháng 11/2026, báo cáo số 17)``,
    ``11/12 báo cáo đúng hạn``, ``3 gương được ghi nhận``, ``thiếu số liệu``; with the
    accepted self-assessment claim that set the points, when one did. A ``share_yes``
    indicator's value (the village's own answer, 100 for yes, 0 for no) is said ``Có`` or
    ``Không`` (``Có (tháng 11/2026, báo cáo số 17)``) rather than ``100%``."""
    criterion = score.criterion
    evidence = score.evidence
    if criterion.measure in ("on_time", "completeness"):
        if evidence.denominator is None or evidence.denominator == 0:
            text = _("chưa có báo cáo nào đến hạn")
        else:
            done = evidence.numerator if evidence.numerator is not None else Decimal(0)
            template = (
                _("{done}/{due} báo cáo đúng hạn")
                if criterion.measure == "on_time"
                else _("{done}/{due} báo cáo đã gửi")
            )
            text = template.format(done=number_text(done), due=number_text(evidence.denominator))
    elif criterion.measure == "good_deeds":
        count = evidence.numerator if evidence.numerator is not None else evidence.value
        text = _("{count} gương người tốt, việc tốt được ghi nhận").format(
            count=number_text(count if count is not None else Decimal(0))
        )
    elif evidence.value is None:
        text = _("thiếu số liệu")
    else:
        target = criterion_target(plan, criterion)
        fraction = _fraction(score)
        if target is not None and target.direction is not None and evidence.level is not None:
            level = percent_text(evidence.level)
            level = f"{fraction} = {level}" if fraction else level
            word = _("giảm") if target.direction == "decrease" else _("tăng")
            change = evidence.value
            if change < 0:  # went the other way
                word = _("tăng") if target.direction == "decrease" else _("giảm")
                change = -change
            text = _("{level} (mốc {baseline}): {word} {change} điểm phần trăm").format(
                level=level,
                baseline=percent_text(evidence.baseline) if evidence.baseline is not None else "—",
                word=word,
                change=points_text(change),
            )
        elif _is_yes_no(plan, criterion):
            text = _("Có") if evidence.value > 0 else _("Không")
        else:
            value = percent_text(evidence.value)
            text = f"{fraction} = {value}" if fraction else value
        where = []
        if evidence.period:
            where.append(period_text(evidence.period))
        if evidence.report_id is not None:
            where.append(_("báo cáo số {id}").format(id=evidence.report_id))
        if where:
            text += f" ({', '.join(where)})"
    if score.claim is not None:
        text += "; " + _("theo đề nghị tự chấm được chấp nhận: {value}").format(
            value=claim_value_text(score.criterion, score.claim.value)
        )
    return text


def _is_yes_no(plan: Plan, criterion: Criterion) -> bool:
    """Whether the criterion reads a ``share_yes`` indicator: for one village, its value is
    that village's yes (100) or no (0)."""
    indicator = _indicator(plan, criterion)
    return indicator is not None and indicator.kind == "share_yes"


def claim_value_text(criterion: Criterion, value: Decimal) -> str:
    """A claimed figure in the criterion's terms: ``96%``, ``11 báo cáo``, ``4 gương``,
    ``1,5 điểm phần trăm`` for a change."""
    if criterion.measure in ("on_time", "completeness"):
        return _("{count} báo cáo").format(count=number_text(value))
    if criterion.measure == "good_deeds":
        return _("{count} gương").format(count=number_text(value))
    if criterion.target is not None and criterion.target.direction is not None:
        return _("{value} điểm phần trăm").format(value=points_text(value))
    return percent_text(value)


def status_text(plan: Plan, board: Board) -> str:
    """``TẠM TÍNH`` with the scoring date, or ``ĐÃ CHỐT ngày … bởi …`` (the day in the
    plan's timezone)."""
    as_of = format_date(board.as_of, DAY)
    if board.final:
        when = (
            format_date(board.finalized_at.astimezone(plan.tz).date(), DAY)
            if board.finalized_at
            else "…"
        )
        return _("ĐÃ CHỐT ngày {date} bởi {by} (số liệu đến hết ngày {as_of})").format(
            date=when, by=board.finalized_by or "…", as_of=as_of
        )
    return _("TẠM TÍNH: số liệu đến hết ngày {as_of}, Hội đồng chưa chốt").format(as_of=as_of)


def board_title(plan: Plan, board: Board) -> str:
    return _("BẢNG ĐIỂM THI ĐUA NĂM {year} – {commune}").format(
        year=board.year, commune=plan.commune
    )


def tied_ids(board: Board) -> set[str]:
    """The villages tied at a grade's cap (flagged for the council)."""
    return {v.village.id for v in board.villages if v.tie} | {
        village_id for group in board.ties for village_id in group
    }


def grade_text(score: VillageScore, tied: set[str]) -> str:
    """The village's grade, ``(bằng điểm)`` after it when the council must decide a tie."""
    grade = score.grade or "—"
    if score.village.id in tied:
        return _("{grade} (bằng điểm)").format(grade=grade)
    return grade


def ties_text(board: Board) -> list[str]:
    """One sentence per group of villages tied at a grade's cap."""
    names = {v.village.id: v.village.name for v in board.villages}
    groups = list(board.ties)
    if not groups:
        flagged = [v.village.id for v in board.villages if v.tie]
        groups = [tuple(flagged)] if flagged else []
    return [
        _("Bằng điểm tại ngưỡng giới hạn số thôn của một xếp loại, đề nghị Hội đồng xem xét: "
          "{names}.").format(names=", ".join(names.get(v, v) for v in group))
        for group in groups
    ]  # fmt: skip


# -- text --------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in unicodedata.normalize("NFC", text))


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _cell_points(score: CriterionScore) -> str:
    text = points_text(score.points)
    if score.missing:
        text += MISSING_MARK
    if score.claim is not None:
        text += CLAIM_MARK
    return text


def render_board_text(plan: Plan, board: Board) -> str:
    """The board as an aligned table: rank, village, each criterion's points (columns
    numbered 1, 2…, the legend under the table names each with its id, title and maximum),
    total and grade, villages by rank; a ``*`` marks a criterion without data (``thiếu số
    liệu``, listed per village under the table), ``†`` points an accepted claim set, and
    ties at a grade's cap are flagged on their rows and named under the table."""
    criteria = _criteria(board)
    tied = tied_ids(board)
    numbers = [str(n) for n in range(1, len(criteria) + 1)]
    header = [_("Hạng"), _("Thôn"), *numbers, _("Tổng"), _("Xếp loại")]
    rows: list[list[str]] = []
    for score in board.ranked():
        by_id = {c.criterion.id: c for c in score.criteria}
        cells = [_cell_points(by_id[c.id]) if c.id in by_id else "—" for c in criteria]
        rows.append(
            [
                str(score.rank),
                score.village.name,
                *cells,
                points_text(score.total),
                grade_text(score, tied),
            ]
        )
    footer = [
        "",
        _("Tối đa"),
        *(points_text(c.points) for c in criteria),
        points_text(board.max),
        "",
    ]
    marked = any(
        row[i][-1:] in (MISSING_MARK, CLAIM_MARK)
        for row in rows
        for i in range(2, 2 + len(criteria))
    )
    if marked:  # the marks stand in a column of their own, after the digits
        for row in [*rows, footer]:
            for i in range(2, 2 + len(criteria)):
                if row[i][-1:] not in (MISSING_MARK, CLAIM_MARK):
                    row[i] += " "
        for i in range(2, 2 + len(criteria)):
            header[i] += " "
    table = [header, *rows, footer]
    right = {0, *range(2, 2 + len(criteria) + 1)}
    widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
    lines = [board_title(plan, board), status_text(plan, board), ""]
    for row in table:
        cells = [_pad(cell, widths[i], i in right) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(_("Tiêu chí:"))
    lines.extend(
        f"  {number}. "
        + _("{title} ({id}), tối đa {points} điểm").format(
            id=c.id, title=c.title, points=points_text(c.points)
        )
        for number, c in zip(numbers, criteria, strict=True)
    )
    missing = [
        (score, [c.criterion.title for c in score.criteria if c.missing])
        for score in board.ranked()
    ]
    missing = [(score, titles) for score, titles in missing if titles]
    if missing:
        lines.append(_("{mark} thiếu số liệu (0 điểm):").format(mark=MISSING_MARK))
        lines.extend(f"  {score.village.name}: {', '.join(titles)}" for score, titles in missing)
    if any(c.claim is not None for v in board.villages for c in v.criteria):
        lines.append(
            _("{mark} điểm theo đề nghị tự chấm của thôn đã được thường trực chấp nhận.").format(
                mark=CLAIM_MARK
            )
        )
    pending = sum(1 for v in board.villages for c in v.claims if c.status == "pending")
    if pending:
        lines.append(_("Đề nghị tự chấm đang chờ thường trực xét: {count}.").format(count=pending))
    lines.extend(ties_text(board))
    return "\n".join(lines) + "\n"


def _criteria(board: Board) -> list[Criterion]:
    """The board's criteria in board order (from its villages, so a frozen board keeps the
    criteria it was scored on)."""
    seen: dict[str, Criterion] = {}
    for score in board.villages:
        for item in score.criteria:
            seen.setdefault(item.criterion.id, item.criterion)
    return list(seen.values())


# -- workbook ----------------------------------------------------------------------------


def _text(ws: Any, text: str) -> Cell:
    """A string cell that never becomes a formula (see ``bot.outputs.workbook``)."""
    cell = Cell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True
    return cell


def _append(ws: Any, values: Sequence[Any]) -> None:
    ws.append([_text(ws, v) if isinstance(v, str) else v for v in values])


def _number(value: Decimal) -> float | int:
    """Points as a spreadsheet number, rounded to one decimal."""
    value = rounded(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _bold_row(ws: Any) -> None:
    for cell in ws[ws.max_row]:
        cell.font = BOLD


def _fit(ws: Any, widest: int = 40) -> None:
    for index, column in enumerate(ws.columns, start=1):
        width = max((len(str(c.value)) for c in column[3:] if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), widest)


def write_board_sheet(ws: Any, plan: Plan, board: Board) -> None:
    """Write the board into the empty worksheet ``ws``: a title and its status (TẠM TÍNH
    or ĐÃ CHỐT), then one row per village by rank — rank, village, each criterion's points,
    total (numbers rounded to one decimal, shown with the reader's decimal mark), grade,
    the criteria without data, and notes (a tie at a grade's cap, an accepted claim) — and
    a last row with each criterion's maximum."""
    criteria = _criteria(board)
    tied = tied_ids(board)
    _append(ws, [board_title(plan, board)])
    ws.cell(row=ws.max_row, column=1).font = BOLD
    _append(ws, [status_text(plan, board)])
    _append(ws, [])
    _append(
        ws,
        [
            _("Hạng"),
            _("Thôn"),
            *(
                _("{title} (tối đa {points})").format(title=c.title, points=points_text(c.points))
                for c in criteria
            ),
            _("Tổng điểm (tối đa {points})").format(points=points_text(board.max)),
            _("Xếp loại"),
            _("Thiếu số liệu"),
            _("Ghi chú"),
        ],
    )
    _bold_row(ws)
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # rows are counted here: ws.max_row and ws[row] scan every cell, which made a board of
    # 2,000 villages take 20 s
    row = header_row
    for score in board.ranked():
        row += 1
        by_id = {c.criterion.id: c for c in score.criteria}
        notes = []
        if score.village.id in tied:
            notes.append(_("bằng điểm tại ngưỡng xếp loại, Hội đồng xem xét"))
        claimed = [c.criterion.title for c in score.criteria if c.claim is not None]
        if claimed:
            notes.append(
                _("tự chấm được chấp nhận: {criteria}").format(criteria=", ".join(claimed))
            )
        _append(
            ws,
            [
                score.rank,
                score.village.name,
                *(_number(by_id[c.id].points) if c.id in by_id else None for c in criteria),
                _number(score.total),
                score.grade or "",
                ", ".join(c.criterion.title for c in score.criteria if c.missing),
                "; ".join(notes),
            ],
        )
        for column in range(3, 4 + len(criteria)):
            ws.cell(row=row, column=column).number_format = POINTS_FORMAT
    _append(ws, ["", _("Tối đa"), *(_number(c.points) for c in criteria), _number(board.max)])
    _bold_row(ws)
    for line in ties_text(board):
        _append(ws, [line])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    _fit(ws)


def write_evidence_sheet(ws: Any, plan: Plan, board: Board) -> None:
    """Write, into the empty worksheet ``ws``, what every village's points stand on: one row
    per village and criterion with the data (``1.140/1.200 người = 95%``), the period and
    report it came from, the points the rule gives and the points counted (an accepted
    claim may set them)."""
    _append(ws, [_("Số liệu chấm điểm năm {year} – {commune}").format(
        year=board.year, commune=plan.commune
    )])  # fmt: skip
    ws.cell(row=1, column=1).font = BOLD
    _append(ws, [status_text(plan, board)])
    _append(ws, [])
    _append(
        ws,
        [
            _("Thôn"),
            _("Tiêu chí"),
            _("Chỉ tiêu"),
            _("Số liệu"),
            _("Kỳ"),
            _("Mã báo cáo"),
            _("Điểm theo số liệu"),
            _("Điểm tính"),
            _("Tối đa"),
        ],
    )
    _bold_row(ws)
    header_row = ws.max_row
    row = header_row  # counted, as in write_board_sheet
    for score in board.villages:
        for item in score.criteria:
            row += 1
            evidence = item.evidence
            _append(
                ws,
                [
                    score.village.name,
                    item.criterion.title,
                    target_text(plan, item.criterion),
                    evidence_text(plan, item),
                    period_text(evidence.period) if evidence.period else "",
                    evidence.report_id,
                    _number(item.computed),
                    _number(item.points),
                    _number(item.criterion.points),
                ],
            )
            for column in range(7, 10):
                ws.cell(row=row, column=column).number_format = POINTS_FORMAT
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    _fit(ws, widest=60)


def board_workbook(plan: Plan, board: Board) -> bytes:
    """The scoreboard workbook: the board sheet and the sheet of the data behind it."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Bảng điểm {year}").format(year=board.year)[:31]
    write_board_sheet(sheet, plan, board)
    write_evidence_sheet(book.create_sheet(_("Số liệu chấm điểm")[:31]), plan, board)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
