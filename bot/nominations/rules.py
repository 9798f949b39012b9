"""Nominations after sending: review, the four stages, who may do what, what people are told.

Pure rules and texts; ``handlers.nominations`` applies them to storage and the outbox.

A nomination waits for review (``review``), may wait for more information
(``needs_info``), is accepted into the first stage, moves forward one stage at a time
(Phát hiện → Bồi dưỡng → Tổng kết → Nhân rộng), may be moved back one stage by the
secretariat, and is closed — not eligible, or ``Đóng hồ sơ`` at any stage — with a reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.domain import (
    CLOSED,
    NEEDS_INFO,
    REVIEW,
    ROLE_ADMIN,
    ROLE_CHAIR,
    ROLE_SECRETARIAT,
    STAGES,
    Nomination,
)
from bot.i18n import DAY, N_, _, format_date
from bot.messages import Choice, Reply
from bot.plan.model import Plan

STATUS_NAMES = {
    REVIEW: N_("Chờ xét"),
    NEEDS_INFO: N_("Chờ bổ sung"),
    "phat_hien": N_("Phát hiện"),
    "boi_duong": N_("Bồi dưỡng"),
    "tong_ket": N_("Tổng kết"),
    "nhan_rong": N_("Nhân rộng"),
    CLOSED: N_("Đã đóng"),
}
OPEN = (REVIEW, NEEDS_INFO, *STAGES)
OFFICERS = (ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)
REVIEWERS = (ROLE_SECRETARIAT, ROLE_ADMIN)
WAITING_TOO_LONG_DAYS = 7


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def next_stage(status: str) -> str | None:
    if status in STAGES and status != STAGES[-1]:
        return STAGES[STAGES.index(status) + 1]
    return None


def previous_stage(status: str) -> str | None:
    if status in STAGES and status != STAGES[0]:
        return STAGES[STAGES.index(status) - 1]
    return None


@dataclass(frozen=True)
class Action:
    name: str  # accept, ask, reject, advance, back, close
    roles: tuple[str, ...]
    needs_text: bool


ACTIONS = {
    "accept": Action("accept", REVIEWERS, False),
    "ask": Action("ask", REVIEWERS, True),
    "reject": Action("reject", REVIEWERS, True),
    "advance": Action("advance", OFFICERS, False),
    "back": Action("back", REVIEWERS, True),
    "close": Action("close", OFFICERS, True),
}
# The word each action is typed as (``/duyet 7 ghinhan``), where a channel has no buttons.
WORDS = {
    "accept": "ghinhan",
    "ask": "bosung",
    "reject": "khongdat",
    "advance": "tiep",
    "back": "lui",
    "close": "dong",
}
ACTION_OF = {word: action for action, word in WORDS.items()}

EVENT_OF = {
    "accept": "accepted",
    "ask": "asked",
    "reject": "rejected",
    "advance": "advanced",
    "back": "moved_back",
    "close": "closed",
}


def target(action: str, status: str) -> str | None:
    """The status ``action`` leads to from ``status``; None when it does not apply."""
    if action == "accept" and status == REVIEW:
        return STAGES[0]
    if action == "ask" and status == REVIEW:
        return NEEDS_INFO
    if action == "reject" and status in (REVIEW, NEEDS_INFO):
        return CLOSED
    if action == "advance":
        return next_stage(status)
    if action == "back":
        return previous_stage(status)
    if action == "close" and status in STAGES:
        return CLOSED
    return None


def may(role: str, action: str) -> bool:
    known = ACTIONS.get(action)
    return known is not None and role in known.roles


def button(nomination: Nomination, action: str) -> Choice:
    """A review button: a command, so it works typed too, and is checked when pressed."""
    labels = {
        "accept": _("Ghi nhận"),
        "ask": _("Cần bổ sung"),
        "reject": _("Không đủ điều kiện"),
        "close": _("Đóng hồ sơ"),
    }
    if action == "advance":
        label = "→ " + status_name(next_stage(nomination.status) or "")
    elif action == "back":
        label = "← " + status_name(previous_stage(nomination.status) or "")
    else:
        label = labels[action]
    return Choice(label, f"/duyet {nomination.id} {WORDS[action]}")


def buttons_for(nomination: Nomination, role: str) -> tuple[Choice, ...]:
    """What this role may do with the nomination now, as buttons."""
    order = ("accept", "ask", "reject", "advance", "back", "close")
    return tuple(
        button(nomination, action)
        for action in order
        if may(role, action) and target(action, nomination.status) is not None
    )


def card(plan: Plan, nomination: Nomination, nominator: str) -> str:
    """The nomination in full, for those who may see it (the nominator, secretariat, chair)."""
    village = plan.village(nomination.village_id)
    return "\n".join(
        [
            _("Đề cử {number} · {status}").format(
                number=nomination.number, status=status_name(nomination.status)
            ),
            _("Người được đề cử: {nominee} ({village})").format(
                nominee=nomination.nominee,
                village=village.name if village else nomination.village_id,
            ),
            _("Loại: {kind}").format(kind=nomination.kind),
            _("Việc làm: {deed}").format(deed=nomination.deed),
            _("Người đề cử: {name}, ngày {date}").format(
                name=nominator,
                date=format_date(nomination.created_at.astimezone(plan.tz).date(), DAY),
            ),
            _("Ảnh: {count}").format(count=len(nomination.photos)),
        ]
    )


def prompt(nomination: Nomination, action: str) -> str:
    """What a reviewer is asked to type for an action that needs words."""
    if action == "ask":
        return _("Cần bổ sung gì cho đề cử {number}? Gõ câu hỏi gửi người đề cử.").format(
            number=nomination.number
        )
    if action == "reject":
        return _("Vì sao đề cử {number} không đủ điều kiện? Gõ lý do.").format(
            number=nomination.number
        )
    if action == "back":
        return _("Vì sao chuyển đề cử {number} về giai đoạn {stage}? Gõ lý do.").format(
            number=nomination.number, stage=status_name(previous_stage(nomination.status) or "")
        )
    return _("Vì sao đóng hồ sơ đề cử {number}? Gõ lý do.").format(number=nomination.number)


def told(nomination: Nomination, action: str, status: str, comment: str) -> Reply:
    """What the nominator is told about a change, in plain words."""
    head = _("Đề cử {number} ({nominee}): ").format(
        number=nomination.number, nominee=nomination.nominee
    )
    if action == "accept":
        text = _("đã được ghi nhận, vào giai đoạn {stage}.").format(stage=status_name(status))
    elif action == "ask":
        text = _(
            "thường trực Hội đồng Thi đua cần bổ sung: {question}\n"
            "Chọn “Trả lời” (hoặc gõ /traloi {id}) rồi gửi câu trả lời."
        ).format(question=comment, id=nomination.id)
        answer = Choice(_("Trả lời"), f"/traloi {nomination.id}")
        return Reply(head + text, (answer,))
    elif action == "reject":
        text = _("chưa đủ điều kiện. Lý do: {reason}").format(reason=comment)
    elif action == "advance":
        text = _("đã chuyển sang giai đoạn {stage}.").format(stage=status_name(status))
    elif action == "back":
        text = _("được chuyển về giai đoạn {stage}. Lý do: {reason}").format(
            stage=status_name(status), reason=comment
        )
    else:
        text = _("hồ sơ đã đóng. Lý do: {reason}").format(reason=comment)
    if comment and action in ("accept", "advance"):
        text += " " + _("Ghi chú: {comment}").format(comment=comment)
    return Reply(head + text)


def digest_paragraph(plan: Plan, new: list[Nomination], waiting: list[Nomination]) -> str | None:
    """The digest's section: nominations sent in the last 7 days by kind and village, and
    those waiting for review longer than 7 days. None when there is nothing to say."""
    if not new and not waiting:
        return None
    lines = [_("Đề cử gương người tốt, việc tốt: {count} mới trong 7 ngày qua.").format(
        count=len(new)
    )]  # fmt: skip
    if new:
        kinds = Counter(n.kind for n in new)
        lines.append(
            _("Theo loại: {items}").format(
                items=", ".join(f"{kind}: {count}" for kind, count in kinds.most_common())
            )
        )
        names = {v.id: v.name for v in plan.villages}
        villages = Counter(names.get(n.village_id, n.village_id) for n in new)
        lines.append(
            _("Theo thôn: {items}").format(
                items=", ".join(f"{name}: {count}" for name, count in villages.most_common())
            )
        )
    if waiting:
        lines.append(
            _("Chờ xét quá {days} ngày: {numbers}").format(
                days=WAITING_TOO_LONG_DAYS, numbers=", ".join(n.number for n in waiting)
            )
        )
    return "\n".join(lines)
