"""``/bangdiem`` and the monthly board message against storage: who sees what, the year
shown, and the board read in the caller's transaction (``handlers.scoreboard.load_board``).

The secretariat, the chair and admins get the whole table; a head gets their village's
view (``bot.scoring.views.head_text``): its points, its rank, the top three and what it
lacks for the next grade.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain import ROLE_ADMIN, ROLE_CHAIR, ROLE_HEAD, ROLE_SECRETARIAT, Person
from bot.i18n import DAY, _, command_name, format_date
from bot.messages import Reply
from bot.plan.model import Plan
from bot.scoring import rules
from bot.scoring.board import Board
from bot.scoring.views import board_text, head_text, shown_year
from handlers.scoreboard import load_board
from storage.repository import Transaction

BOARD_ROLES = (ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)  # who sees the whole table


def head_view(plan: Plan, board: Board, village_id: str) -> Reply:
    """A head's board message for ``village_id`` (on the board), in the current locale."""
    return Reply(head_text(plan, board, village_id, rules.gaps(plan, board, village_id)))


def _year(plan: Plan, args: str, today: date) -> tuple[int | None, str | None]:
    """The year ``/bangdiem`` asks for (``/bangdiem 2025``), or the one shown by default;
    else why it cannot be shown."""
    wanted = args.strip()
    if not wanted:
        return shown_year(plan, today) or today.year, None
    if not (wanted.isdigit() and len(wanted) == 4):
        return None, _("Năm “{year}” không hợp lệ. Gõ {command} hoặc {command} {this}.").format(
            year=wanted[:12], command=command_name("/bangdiem"), this=today.year
        )
    year = int(wanted)
    if year > today.year:
        return None, _("Năm {year} chưa bắt đầu nên chưa có bảng điểm.").format(year=year)
    if plan.starts is not None and year < plan.starts.year:
        return None, _("Kế hoạch bắt đầu từ ngày {date} nên không có bảng điểm năm {year}.").format(
            date=format_date(plan.starts, DAY), year=year
        )
    return year, None


async def board_reply(
    tx: Transaction, plan: Plan, person: Person, args: str, now: datetime
) -> Reply:
    """``/bangdiem [năm]``: the whole table for the secretariat, the chair and admins, the
    village's view for a head; the board read within ``tx`` (as of today in the plan's
    timezone, the frozen one once the council froze the year)."""
    if plan.scoring is None:
        return Reply(_("Kế hoạch chưa có phần chấm điểm thi đua nên chưa có bảng điểm."))
    is_head = person.role == ROLE_HEAD and person.village_id is not None
    if person.role not in BOARD_ROLES and not is_head:
        return Reply(
            _(
                "Bảng điểm toàn xã dành cho thường trực và Chủ tịch Hội đồng Thi đua; trưởng "
                "thôn xem điểm của thôn mình."
            )
        )
    if is_head and plan.village(person.village_id or "") is None:
        return Reply(_("Thôn của bạn không còn trong kế hoạch. Xin liên hệ cán bộ xã."))
    today = now.astimezone(plan.tz).date()
    year, problem = _year(plan, args, today)
    if year is None:
        return Reply(problem or "")
    board = await load_board(tx, plan, year, today, now)
    if not is_head:
        return Reply(board_text(plan, board))
    village_id = person.village_id or ""
    if not any(v.village.id == village_id for v in board.villages):  # not on a frozen board
        return Reply(
            _("Thôn của bạn không có trong bảng điểm năm {year} đã được Hội đồng chốt.").format(
                year=year
            )
        )
    return head_view(plan, board, village_id)
