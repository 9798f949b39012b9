"""What reminders and late notices say. Pure: the scheduler decides who gets them.

A village form's reminders go to the heads of the villages that have not sent it; a
commune form's to the commune officers, the commune (COMMUNE_ID) being its one expected
reporter; a baseline form is never reminded."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.i18n import DAY, _, format_date
from bot.messages import Choice, Reply
from bot.outputs.digest import village_list
from bot.plan.model import COMMUNE_ID, Plan
from bot.plan.schedule import ReminderDue
from bot.text import in_sentence


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


def reporter_name(plan: Plan, village_id: str) -> str:
    """Whom a report is from, as a sentence names it: a village, or the commune."""
    if village_id == COMMUNE_ID:
        return in_sentence(plan.commune)
    village = plan.village(village_id)
    return village.name if village else village_id


def reminder(plan: Plan, due: ReminderDue, name: str, village: str, answered: int | None) -> Reply:
    """The reminder to a village head whose village has not sent ``due``'s report yet, or
    to a commune officer for a commune form (``village``: the commune's name then);
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
    elif form.level == "commune":
        text = _(
            "Kính gửi {name}: {form} kỳ {period} của {village} đã quá hạn ({due}) mà chưa "
            "được gửi. Xin anh/chị gửi sớm."
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
    sent (``missing``), which sent after the due day (``late``), by village id; for a
    commune form, whether the commune sent it (``without_head``: no officer to remind)."""
    if plan.form(due.form_id).level == "commune":
        return _commune_late_notice(plan, due, missing, late, without_head)
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


def _commune_late_notice(
    plan: Plan, due: ReminderDue, missing: list[str], late: list[str], without_head: list[str]
) -> Reply:
    """``late_notice`` for a commune form: the commune is its one expected reporter."""
    values = {
        "form": plan.form(due.form_id).title,
        "period": due.period.label(),
        "due": due_text(due.due),
        "commune": in_sentence(plan.commune),
    }
    if COMMUNE_ID in missing:
        lines = [
            _("{form} kỳ {period} (hạn {due}): {commune} chưa gửi.").format(**values),
        ]
        if COMMUNE_ID in without_head:
            lines.append(
                _(
                    "Không nhắc được: chưa có cán bộ xã đăng ký, hoặc không liên lạc được "
                    "(tạo mã mời: thidua invite --role officer)."
                )
            )
        else:
            lines.append(_("Cán bộ xã đã được nhắc lại hôm nay."))
        return Reply("\n".join(lines))
    return Reply(_("{form} kỳ {period} (hạn {due}): {commune} gửi muộn.").format(**values))
