"""The weekly radio bulletin of good examples (gương người tốt, việc tốt).

The commune's loudspeaker station (Đài truyền thanh xã) reads it aloud, so it is plain
text: no emoji, no markdown, no bullet symbols, dates written out in words. Paragraphs
are separated by a blank line; the caller splits a long bulletin at those breaks.
Pure: no I/O.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from bot.domain import Nomination
from bot.i18n import _, format_date
from bot.plan.model import Plan
from bot.plan.periods import Period
from bot.text import in_sentence

__all__ = ["FEATURED_STAGES", "bulletin_text", "spoken_date"]

# The stages a nomination is read out for when it reaches them.
FEATURED_STAGES = ("tong_ket", "nhan_rong")

# Invisible characters that come with emoji: variation selectors, the keycap mark.
_EMOJI_PARTS = frozenset("\ufe0e\ufe0f\u20e3")
# Symbols (emoji, pictographs), modifiers (skin tones), formatting (joiners), private use.
_UNSPOKEN_CATEGORIES = frozenset({"So", "Sk", "Cf", "Co", "Cs"})


def spoken_date(day: date) -> str:
    """A date the way it is read aloud: ``ngày 23 tháng 11 năm 2026`` in Vietnamese."""
    # Translators: a Babel (CLDR) date pattern; text between single quotes is kept as is.
    # English: "MMMM d, y" (November 23, 2026).
    return format_date(day, _("'ngày' d 'tháng' M 'năm' y"))


def _speakable(text: str) -> str:
    """``text`` on one line, without emoji and other symbols nobody can read out."""
    composed = unicodedata.normalize("NFC", text)
    kept = "".join(
        ch
        for ch in composed
        if ch not in _EMOJI_PARTS and unicodedata.category(ch) not in _UNSPOKEN_CATEGORIES
    )
    return " ".join(kept.split())


def _sentence(text: str) -> str:
    """``text`` ending with a full stop unless it already ends a sentence."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _paragraph(plan: Plan, nomination: Nomination, stage: str) -> str:
    """One nomination: who, where, what they did, and the stage it reached."""
    nominee = _speakable(nomination.nominee)
    deed = _speakable(nomination.deed)
    kind = _speakable(nomination.kind)
    village = plan.village(nomination.village_id)
    if village is not None:
        who = _("{nominee}, ở {village}, với việc làm: {deed}").format(
            nominee=nominee, village=_speakable(village.name), deed=deed
        )
    else:  # a village no longer in the plan: its id would mean nothing read aloud
        who = _("{nominee}, với việc làm: {deed}").format(nominee=nominee, deed=deed)
    if stage == "tong_ket":
        reached = _(
            "Đây là gương thuộc nhóm {kind}, đã được Hội đồng Thi đua – Khen thưởng xã tổng kết."
        ).format(kind=kind)
    elif stage == "nhan_rong":
        reached = _(
            "Đây là gương thuộc nhóm {kind}, đã được xã chọn để nhân rộng và đề nghị biểu dương."
        ).format(kind=kind)
    else:
        raise ValueError(f"stage {stage!r} is not featured in the bulletin: {FEATURED_STAGES}")
    return f"{_sentence(who)} {reached}"


def bulletin_text(plan: Plan, week: Period, featured: list[tuple[Nomination, str]]) -> str:
    """The week's bulletin, ready to read aloud.

    ``week`` is an ISO week; ``featured`` the nominations that reached the stage
    ``tong_ket`` (Tổng kết) or ``nhan_rong`` (Nhân rộng) that week, each with the stage it
    reached, in the order to read them. A week with none gives a single line.
    """
    start, end = spoken_date(week.start), spoken_date(week.end)
    if not featured:
        return _(
            "Tuần từ {start} đến {end}, xã chưa có gương người tốt, việc tốt mới được tổng kết."
        ).format(start=start, end=end)
    opening = "\n".join(
        (
            _("Thưa toàn thể bà con nhân dân {commune}!").format(
                commune=in_sentence(_speakable(plan.commune))
            ),
            _("Sau đây là Bản tin gương người tốt, việc tốt tuần từ {start} đến {end}.").format(
                start=start, end=end
            ),
        )
    )
    closing = _(
        "Mời bà con cùng học tập và làm theo những tấm gương trên. Khi biết người tốt, "
        "việc tốt ở thôn mình, xin bà con báo với trưởng thôn để xã kịp thời ghi nhận, "
        "biểu dương. Xin cảm ơn bà con đã lắng nghe."
    )
    paragraphs = [opening]
    paragraphs.extend(_paragraph(plan, nomination, stage) for nomination, stage in featured)
    paragraphs.append(closing)
    return "\n\n".join(paragraphs)
