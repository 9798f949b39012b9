"""What reminders and late notices say. Pure: the scheduler decides who gets them."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.i18n import DAY, _, format_date
from bot.messages import Choice, Reply
from bot.outputs.digest import village_list
from bot.plan.model import Plan
from bot.plan.schedule import ReminderDue


def due_text(day: date) -> str:
    """``Thứ Tư, 25/11/2026``: the weekday helps more than the date alone."""
    return format_date(day, f"EEEE, {DAY}")


def report_command(due: ReminderDue) -> str:
    """The command (and button) that opens this form's period, or continues a draft."""
    return f"/baocao {due.form_id} {due.period.key}"


def draft_progress(plan: Plan, due: ReminderDue, draft: dict[str, Any] | None) -> int | None:
    """How many questions a saved draft of this very report has answered, or None when the
    person has no draft of it."""
    if not draft or draft.get("form") != due.form_id or draft.get("period") != due.period.key:
        return None
    questions = {q.id for q in plan.form(due.form_id).questions}
    return len(questions & set(draft.get("answers") or {}))


def reminder(plan: Plan, due: ReminderDue, name: str, village: str, answered: int | None) -> Reply:
    """The reminder to a village head whose village has not sent ``due``'s report yet;
    ``answered`` is their draft's progress (None: no draft)."""
    form = plan.form(due.form_id)
    values = {
        "name": name,
        "form": form.title,
        "period": due.period.label(),
        "village": village,
        "due": due_text(due.due),
    }
    if due.offset < 0:
        text = _(
            "Kính gửi {name}: {form} kỳ {period} của {village} có hạn đến hết {due}. "
            "Xin anh/chị gửi trước hạn."
        ).format(**values)
    elif due.offset == 0:
        text = _(
            "Kính gửi {name}: hôm nay, {due}, là hạn gửi {form} kỳ {period} của {village}. "
            "Xin anh/chị gửi trong ngày."
        ).format(**values)
    else:
        text = _(
            "Kính gửi {name}: {form} kỳ {period} của {village} đã quá hạn ({due}) mà xã chưa "
            "nhận được. Xin anh/chị gửi sớm."
        ).format(**values)
    if answered is not None:
        text += "\n" + _(
            "Anh/chị đang làm dở báo cáo này ({answered}/{total} câu đã trả lời); phần đã "
            "trả lời vẫn được giữ. Chọn “Làm tiếp” để tiếp tục từ chỗ đã dừng."
        ).format(answered=answered, total=len(form.questions))
        label = _("Làm tiếp")
    else:
        text += "\n" + _("Chọn “Báo cáo ngay” hoặc gõ /baocao để bắt đầu.")
        label = _("Báo cáo ngay")
    return Reply(text, (Choice(label, report_command(due)),))


def late_notice(
    plan: Plan,
    due: ReminderDue,
    missing: list[str],
    late: list[str],
    without_head: list[str],
) -> Reply:
    """To the secretariat and the chair, the day after a due date: which villages have not
    sent (``missing``), which sent after the due day (``late``), by village id."""
    names = {v.id: v.name for v in plan.villages}
    total = len(plan.villages)
    lines = [
        _("{form} kỳ {period} (hạn {due}): {count}/{total} thôn chưa gửi đúng hạn.").format(
            form=plan.form(due.form_id).title,
            period=due.period.label(),
            due=due_text(due.due),
            count=len(missing) + len(late),
            total=total,
        )
    ]
    every = [v.id for v in plan.villages]
    if missing:
        lines.append(_("Chưa gửi: {names}").format(names=village_list(missing, names, every)))
    if late:
        lines.append(_("Gửi muộn: {names}").format(names=village_list(late, names)))
    if without_head:
        lines.append(
            _(
                "Không nhắc được (chưa có trưởng thôn đăng ký, hoặc không liên lạc được): {names}"
            ).format(names=village_list(without_head, names, every))
        )
    if missing:
        lines.append(_("Các trưởng thôn chưa gửi đã được nhắc lại hôm nay."))
    return Reply("\n".join(lines))
