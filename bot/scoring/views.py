"""The scoreboard as the chat shows it: the whole table for the council's staff, a village's
own view for its head, and the short section of the weekly digest.

Pure text from a ``Board`` (and, for a head, ``bot.scoring.rules.gaps``), in the current
locale: points rounded to one decimal the Vietnamese way (``13,8``), one line per village
so the table fits a phone, paragraphs separated by blank lines so a channel splits a long
board between them. A head sees their own village's points, its rank among all villages
and the top three; never the points of the villages below those.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from bot.i18n import DAY, _, command_name, format_date, format_number
from bot.plan.model import Criterion, Plan, Target
from bot.scoring.board import PENDING, Board, CriterionScore, VillageScore
from bot.scoring.rules import Gap, due_reports, window

ONE_DECIMAL = Decimal("0.1")
TOP = 3  # the villages a head and the digest see above the rest
LINES_PER_PART = 25  # villages per paragraph of the whole table (a channel splits there)
GAP_LINES = 4  # criteria a head is told about, at most, for the next grade


# -- numbers ------------------------------------------------------------------------------


def _decimal(value: Decimal, rounding: str = "ROUND_HALF_UP") -> str:
    """``value`` to one decimal (halves away from zero, or ``rounding``), without a
    trailing zero, the way the current locale writes it: ``13,8``, ``15``."""
    return format_number(value.quantize(ONE_DECIMAL, rounding=rounding).normalize())


def points_text(value: Decimal) -> str:
    """Points to one decimal: ``13,8``, ``15``."""
    return _decimal(value)


def percent_text(value: Decimal, rounding: str = "ROUND_HALF_UP") -> str:
    """A percentage to one decimal: ``93%``, ``87,5%``."""
    return _decimal(value, rounding) + "%"


def count_text(value: Decimal | int) -> str:
    """A count of things (reports, good deeds, people): ``1.140``."""
    return format_number(Decimal(value).to_integral_value())


def shown_year(plan: Plan, today: date) -> int | None:
    """The year the chat shows the board of on ``today``: this year once some report of it
    is due; else, in January, last year (the year just ended is the one that matters until
    this year's first report is due); else None (before the plan starts, after it ends, or
    while no report of the new year is due yet after January)."""
    if due_reports(plan, window(plan, today.year, today)):
        return today.year
    if today.month == 1 and due_reports(plan, window(plan, today.year - 1, today)):
        return today.year - 1
    return None


def scoring_day(board: Board) -> date:
    """The last day the board counts: its scoring date, or December 31st of its year when
    that comes first."""
    return min(board.as_of, date(board.year, 12, 31))


# -- headings -----------------------------------------------------------------------------


def status_line(plan: Plan, board: Board) -> str:
    """Whether the board is frozen (``Bảng điểm đã được Hội đồng chốt ngày 20/12/2026 …``)
    or provisional (``Tạm tính đến hết ngày 24/11/2026``), with the maximum."""
    if board.final:
        day = (
            format_date(board.finalized_at.astimezone(plan.tz).date(), DAY)
            if board.finalized_at is not None
            else "…"
        )
        text = _("Bảng điểm đã được Hội đồng chốt ngày {date}").format(date=day)
        if board.finalized_by:
            text += f" ({board.finalized_by})"
        return text + "; " + _("tối đa {points} điểm.").format(points=points_text(board.max))
    return _("Tạm tính đến hết ngày {date}; tối đa {points} điểm.").format(
        date=format_date(scoring_day(board), DAY), points=points_text(board.max)
    )


def _title(board: Board, where: str) -> str:
    return _("BẢNG ĐIỂM THI ĐUA NĂM {year} – {where}").format(year=board.year, where=where)


def _tied(board: Board) -> set[str]:
    """The villages tied at a grade's cap, which the council decides."""
    return {v.village.id for v in board.villages if v.tie} | {
        village_id for group in board.ties for village_id in group
    }


def _grade(score: VillageScore) -> str:
    return score.grade if score.grade is not None else ""


def pending_claims(board: Board) -> int:
    """The claims of the year waiting for the secretariat's review (none on a frozen board:
    it can no longer change)."""
    if board.final:
        return 0
    return sum(1 for v in board.villages for claim in v.claims if claim.status == PENDING)


# -- the whole table ----------------------------------------------------------------------


def _missing_titles(score: VillageScore) -> list[str]:
    return [c.criterion.title for c in score.criteria if c.missing]


def village_line(score: VillageScore, tied: set[str]) -> str:
    """One village in the table: ``2. Thôn 1: 47,8 – Tốt``, with the criteria it has no
    data for and a mark when its grade was decided at a tie."""
    line = _("{rank}. {village}: {total}").format(
        rank=score.rank, village=score.village.name, total=points_text(score.total)
    )
    if score.grade is not None:
        line += f" – {score.grade}"
    if score.village.id in tied:
        line += " " + _("(bằng điểm, Hội đồng xem xét)")
    missing = _missing_titles(score)
    if missing:
        line += "; " + _("thiếu số liệu: {criteria}").format(criteria=", ".join(missing))
    return line


def ties_lines(board: Board) -> list[str]:
    """One sentence per group of villages tied at a grade's cap."""
    names = {v.village.id: v.village.name for v in board.villages}
    groups = [group for group in board.ties if group]
    if not groups:
        flagged = tuple(v.village.id for v in board.villages if v.tie)
        groups = [flagged] if flagged else []
    return [
        _(
            "Bằng điểm ở ngưỡng số thôn được xếp một loại, đề nghị Hội đồng xem xét: {names}."
        ).format(names=", ".join(names.get(v, v) for v in group))
        for group in groups
    ]


def board_text(plan: Plan, board: Board) -> str:
    """The whole board for the secretariat, the chair and admins: a heading, then one line
    per village by rank (rank, name, total, grade, the criteria without data), in parts of
    ``LINES_PER_PART`` villages, then the ties for the council and the claims waiting."""
    paragraphs = [f"{_title(board, plan.commune)}\n{status_line(plan, board)}"]
    tied = _tied(board)
    lines = [village_line(score, tied) for score in board.ranked()]
    for start in range(0, len(lines), LINES_PER_PART):
        paragraphs.append("\n".join(lines[start : start + LINES_PER_PART]))
    notes = ties_lines(board)
    waiting = pending_claims(board)
    if waiting:
        notes.append(
            _("Đề nghị chấm lại đang chờ xét: {count} (gõ {command}).").format(
                count=waiting, command=command_name("/tucham_ds")
            )
        )
    if notes:
        paragraphs.append("\n".join(notes))
    return "\n\n".join(paragraphs)


# -- the top of the board -----------------------------------------------------------------


def top_text(board: Board) -> str:
    """The villages at the top (``1. Thôn 3: 92,5; 2. Thôn 1: 88``): the first ``TOP`` by
    rank, and how many more share the last one's rank, never a village ranked below."""
    ranked = board.ranked()
    shown = ranked[:TOP]
    text = "; ".join(
        _("{rank}. {village}: {total}").format(
            rank=v.rank, village=v.village.name, total=points_text(v.total)
        )
        for v in shown
    )
    if shown:
        last = shown[-1].rank
        more = sum(1 for v in ranked[TOP:] if v.rank == last)
        if more:
            text += " " + _("và {count} thôn khác cùng hạng {rank}").format(count=more, rank=last)
    return text


def grade_counts_text(plan: Plan, board: Board) -> str | None:
    """How many villages have each grade, best first (``Xuất sắc: 1 thôn; Tốt: 2 thôn``);
    None without grades."""
    names = [g.name for g in plan.scoring.grades] if plan.scoring is not None else []
    for score in board.villages:  # a frozen board may hold a grade the plan has dropped
        if score.grade is not None and score.grade not in names:
            names.append(score.grade)
    if not names:
        return None
    counts = {name: 0 for name in names}
    for score in board.villages:
        if score.grade is not None:
            counts[score.grade] += 1
    return "; ".join(
        _("{grade}: {count} thôn").format(grade=name, count=count) for name, count in counts.items()
    )


def digest_section(plan: Plan, board: Board) -> str:
    """The weekly digest's scoreboard section: the year and its status, the top villages,
    how many villages per grade, the claims waiting for review and the ties."""
    lines = [_("Bảng điểm thi đua năm {year}").format(year=board.year), status_line(plan, board)]
    if board.villages:
        lines.append(_("Dẫn đầu: {villages}").format(villages=top_text(board)))
    counts = grade_counts_text(plan, board)
    if counts is not None:
        lines.append(_("Xếp loại: {counts}").format(counts=counts))
    if not board.final:
        lines.append(
            _("Đề nghị chấm lại đang chờ xét: {count}").format(count=pending_claims(board))
        )
    lines.extend(ties_lines(board))
    return "\n".join(lines)


# -- a head's view ------------------------------------------------------------------------


def criterion_line(score: CriterionScore) -> str:
    """One criterion of a village: ``- Điện lưới: 9/10``, ``- Thu gom rác: thiếu số liệu →
    0/10``, with a note when an accepted claim set the points."""
    points = _("{points}/{max}").format(
        points=points_text(score.points), max=points_text(score.criterion.points)
    )
    if score.missing:
        points = _("thiếu số liệu → {points}").format(points=points)
    line = f"- {score.criterion.title}: {points}"
    if score.claim is not None:
        line += " " + _("(theo đề nghị chấm lại đã được chấp nhận)")
    return line


def _grade_of(plan: Plan, name: str) -> int | None:
    names = [g.name for g in plan.scoring.grades] if plan.scoring is not None else []
    return names.index(name) if name in names else None


def _target(criterion: Criterion, plan: Plan) -> Target | None:
    """The target a criterion is scored against: its own, else its indicator's."""
    if criterion.target is not None or criterion.indicator is None:
        return criterion.target
    try:
        return plan.indicator(criterion.indicator).target
    except KeyError:  # a frozen board may name an indicator the plan has dropped since
        return None


def _change_text(down: bool, amount: str) -> str:
    """A change in percentage points: ``giảm 0,4 điểm phần trăm``, ``tăng 2 điểm phần trăm``."""
    if down:
        return _("giảm {change} điểm phần trăm").format(change=amount)
    return _("tăng {change} điểm phần trăm").format(change=amount)


def _needed_text(criterion: Criterion, plan: Plan, gap: Gap) -> str:
    """The figure an indicator criterion needs, rounded toward the safe side (up for an "at
    least" target, down for an "at most" one) so that reaching it is enough."""
    assert gap.needed is not None
    target = _target(criterion, plan)
    upward = target is None or target.op in (">=", ">", "==")
    rounding = ROUND_CEILING if upward else ROUND_FLOOR
    if target is not None and target.direction is not None:
        return _change_text(target.direction == "decrease", _decimal(gap.needed, rounding))
    return percent_text(gap.needed, rounding)


def _value_text(criterion: Criterion, plan: Plan, value: Decimal) -> str:
    """An indicator criterion's figure now: ``93%``, or the change for a change target
    (``giảm 0,4 điểm phần trăm``; the other way when it moved the wrong way)."""
    target = _target(criterion, plan)
    if target is not None and target.direction is not None:
        if value == 0:
            return _("chưa thay đổi")
        down = (target.direction == "decrease") == (value >= 0)
        return _change_text(down, _decimal(abs(value)))
    return percent_text(value)


def _is_change(plan: Plan, criterion: Criterion) -> bool:
    """The criterion's target is on a change from the baseline."""
    target = _target(criterion, plan)
    return target is not None and target.direction is not None


def gap_text(plan: Plan, gap: Gap) -> str | None:
    """What one criterion lacks, in plain words: ``Bảo hiểm y tế 93% → cần 95% (thêm 24
    người)``, ``còn thiếu 2 báo cáo đúng hạn``, ``cần thêm 1 gương người tốt, việc tốt được
    xã ghi nhận``; None for the total's gap, or when there is nothing to say."""
    criterion = gap.criterion
    if criterion is None:
        return None
    if criterion.measure in ("on_time", "completeness"):
        if not gap.reachable and not gap.more:
            return _("{criterion}: được tính khi có báo cáo đến hạn").format(
                criterion=criterion.title
            )
        if not gap.more:
            return None
        if criterion.measure == "on_time":
            return _("còn thiếu {count} báo cáo đúng hạn").format(count=count_text(gap.more))
        return _("còn {count} báo cáo chưa gửi").format(count=count_text(gap.more))
    if criterion.measure == "good_deeds":
        if not gap.more:
            return None
        return _("cần thêm {count} gương người tốt, việc tốt được xã ghi nhận").format(
            count=count_text(gap.more)
        )
    if gap.needed is None:
        return None
    needed = _needed_text(criterion, plan, gap)
    if gap.value is None:
        return _("{criterion}: chưa có số liệu, cần {needed}").format(
            criterion=criterion.title, needed=needed
        )
    # a change reads after a colon: "Giảm tỷ lệ hộ nghèo: giảm 0 điểm phần trăm → …"
    shape = (
        _("{criterion}: {value} → cần {needed}")
        if _is_change(plan, criterion)
        else _("{criterion} {value} → cần {needed}")
    )
    text = shape.format(
        criterion=criterion.title, value=_value_text(criterion, plan, gap.value), needed=needed
    )
    unit = gap.unit or ""
    if gap.more:
        text += " " + _("(thêm {count} {unit})").format(count=count_text(gap.more), unit=unit)
    elif gap.fewer:
        text += " " + _("(bớt {count} {unit})").format(count=count_text(gap.fewer), unit=unit)
    return text.replace(" )", ")")


def gaps_paragraph(plan: Plan, gaps: Sequence[Gap]) -> str | None:
    """What the village lacks for the next grade, in plain, encouraging words: the points
    the total lacks, then at most ``GAP_LINES`` criteria (those under the grade's minimum
    first); None when there is nothing to reach for."""
    if not gaps:
        return None
    grade = gaps[0].grade
    if any(g.capped for g in gaps):
        return _(
            "Thôn đã đủ điểm và điều kiện của loại {grade}, nhưng loại này chỉ dành cho một "
            "số thôn điểm cao nhất. Thêm điểm ở bất kỳ tiêu chí nào để vượt lên!"
        ).format(grade=grade)
    total = next((g for g in gaps if g.criterion is None), None)
    minimum = None
    index = _grade_of(plan, grade)
    if index is not None and plan.scoring is not None:
        minimum = plan.scoring.grades[index].each_at_least
    if total is not None:
        head = _("Để lên loại {grade}, thôn cần thêm {points} điểm").format(
            grade=grade, points=points_text(total.lacking)
        )
    else:
        head = _("Để lên loại {grade}, thôn cần nâng các tiêu chí chưa đạt mức tối thiểu").format(
            grade=grade
        )
    if minimum is not None and any(g.required for g in gaps):
        head += " " + _("(mỗi tiêu chí cần đạt từ {share}% điểm tối đa của nó trở lên)").format(
            share=_decimal(minimum)
        )
    texts = [text for gap in gaps if gap.criterion is not None and (text := gap_text(plan, gap))]
    lines = [head + ":", *(f"- {text}" for text in texts[:GAP_LINES])]
    lines.append(_("Cố gắng lên, thôn sẽ đạt loại {grade}!").format(grade=grade))
    return "\n".join(lines)


def head_text(plan: Plan, board: Board, village_id: str, gaps: Sequence[Gap]) -> str:
    """A head's board: their village's total, grade and rank among all villages
    (``hạng 4/19``), its points per criterion, the top three, and — while the board is
    provisional — what it lacks for the next grade (``gaps``, from
    ``bot.scoring.rules.gaps``)."""
    score = board.village(village_id)
    paragraphs = [f"{_title(board, score.village.name)}\n{status_line(plan, board)}"]
    summary = _("Điểm của thôn: {total}/{max}").format(
        total=points_text(score.total), max=points_text(board.max)
    )
    if score.grade is not None:
        summary += f" – {score.grade}"
    summary += " – " + _("hạng {rank}/{count}").format(rank=score.rank, count=len(board.villages))
    if score.village.id in _tied(board):
        summary += ". " + _("Thôn bằng điểm với thôn khác ở ngưỡng xếp loại; Hội đồng sẽ xem xét.")
    lines = [summary]
    lines += [criterion_line(c) for c in score.criteria]
    waiting = sum(1 for c in score.claims if c.status == PENDING) if not board.final else 0
    if waiting:
        lines.append(_("Đề nghị chấm lại của thôn đang chờ xét: {count}.").format(count=waiting))
    paragraphs.append("\n".join(lines))
    paragraphs.append(_("Dẫn đầu toàn xã: {villages}.").format(villages=top_text(board)))
    index = _grade_of(plan, _grade(score))
    if board.final:  # the council's decision: nothing left to reach for this year
        paragraphs.append(
            _("Cảm ơn thôn đã cùng góp sức cho phong trào thi đua năm {year}!").format(
                year=board.year
            )
        )
    elif index == 0:
        paragraphs.append(
            _("Chúc mừng! Thôn đang ở loại cao nhất, {grade}. Hãy giữ vững nhé!").format(
                grade=score.grade
            )
        )
    else:
        reach = gaps_paragraph(plan, gaps)
        if reach is not None:
            paragraphs.append(reach)
    if not board.final:
        closing = []
        missing = _missing_titles(score)
        if missing:
            closing.append(
                _("Tiêu chí thiếu số liệu được 0 điểm: {criteria}.").format(
                    criteria=", ".join(missing)
                )
            )
        closing.append(
            _(
                "Gõ {command} để xem số liệu của từng tiêu chí và đề nghị chấm lại nếu chưa đúng."
            ).format(command=command_name("/tucham"))
        )
        paragraphs.append(" ".join(closing))
    return "\n\n".join(paragraphs)
