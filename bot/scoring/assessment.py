"""A village head's self-assessment as a conversation: the provisional board, then agree or
claim another figure for one criterion.

Like the nomination flow (``bot.nominations.flow``) it is pure: it takes the saved draft and
one input and returns the replies, the draft to save and, when the head agrees or sends a
claim, an effect for the caller to store. The draft keeps what the head was shown (a
snapshot of the village's board: each criterion's data, points and the reports due), so the
flow needs no storage between steps, survives a restart, and the head claims against the
figures they saw. Buttons carry the draft's step number, so a stale button changes nothing;
every button can also be typed (its words, or its number on a choice-only step), which is
how it works on Zalo. The claimed figure is read as people type numbers
(``bot.reports.numbers``: "96 %", "96,5%", "11 báo cáo"), checked against what the criterion
can take, and priced by the scoring rule (``bot.scoring.rules.claim_points``) before the
head confirms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.i18n import DAY, _, format_date, format_number
from bot.messages import Choice, Reply
from bot.plan.model import Criterion, Plan
from bot.plan.periods import parse_period
from bot.reports.engine import Input, menu_number, photo_problem, token_number
from bot.reports.numbers import Ambiguous, Invalid, parse_number
from bot.scoring import rules
from bot.scoring.board import PENDING, Board, Claim, CriterionScore
from bot.text import clean_text, normalize_text

FLOW = "assessment"
REASON_LIMIT = 1000
MODES = ("menu", "criterion", "value", "reading", "reason", "photo", "confirm")

# What a criterion's figure is, and so how a claimed one is typed and checked.
PERCENT, CHANGE, YES_NO, ON_TIME, SENT, DEEDS = (
    "percent",
    "change",
    "yes_no",
    "on_time",
    "sent",
    "deeds",
)
CHANGE_LIMIT = Decimal(100)  # a change in percentage points lies within ±100

AGREE, CLAIM, LATER, BACK, SKIP, KEEP, SEND, CANCEL, YES, NO = (
    "agree",
    "claim",
    "later",
    "back",
    "skip",
    "keep",
    "send",
    "cancel",
    "y",
    "n",
)
TENTH = Decimal("0.1")


# -- the snapshot of a village's board --------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def row_of(score: CriterionScore) -> dict[str, Any]:
    """One criterion's score as the draft keeps it (JSON-able, Decimals as strings)."""
    evidence = score.evidence
    return {
        "id": score.criterion.id,
        "title": score.criterion.title,
        "max": str(score.criterion.points),
        "computed": str(score.computed),
        "points": str(score.points),
        "value": _text(evidence.value),
        "num": _text(evidence.numerator),
        "den": _text(evidence.denominator),
        "unit": evidence.unit,
        "baseline": _text(evidence.baseline),
        # the period of the village's first value, when that stood in for a baseline
        "baseline_period": evidence.baseline_period,
        "level": _text(evidence.level),
        "claim": _text(score.claim.value) if score.claim is not None else None,
    }


def reports_due(plan: Plan, board: Board) -> int:
    """How many reports each village had to send in the board's window (the same for every
    village: each village-level form's periods due so far)."""
    return len(rules.due_reports(plan, rules.window(plan, board.year, board.as_of)))


def snapshot(plan: Plan, board: Board, village_id: str) -> dict[str, Any]:
    """What the head is shown of their village's board, as the draft keeps it."""
    score = board.village(village_id)
    return {
        "as_of": board.as_of.isoformat(),
        "name": score.village.name,
        "total": str(score.total),
        "max": str(board.max),
        "grade": score.grade,
        "rank": score.rank,
        "villages": len(board.villages),
        "due": reports_due(plan, board),
        "rows": [row_of(c) for c in score.criteria],
        "pending": [[c.criterion_id, str(c.value)] for c in score.claims if c.status == PENDING],
    }


# -- how a criterion's figure is read and said ------------------------------------------


@dataclass(frozen=True)
class Measure:
    """What a criterion's figure is: its kind (PERCENT, CHANGE, YES_NO, ON_TIME, SENT,
    DEEDS) and, for a change target, its direction ("increase" or "decrease")."""

    kind: str
    direction: str | None = None
    baseline_year: int | None = None


def measure_of(plan: Plan, criterion: Criterion) -> Measure:
    """The kind of figure ``criterion`` scores: a count of reports on time or sent, of
    good deeds, a change in percentage points against the baseline, a yes/no, or a %."""
    if criterion.measure == "on_time":
        return Measure(ON_TIME)
    if criterion.measure == "completeness":
        return Measure(SENT)
    if criterion.measure == "good_deeds":
        return Measure(DEEDS)
    indicator = plan.indicator(criterion.indicator or "")
    target = criterion.target or indicator.target
    if target is not None and target.direction is not None:
        return Measure(CHANGE, target.direction, indicator.baseline_year)
    if indicator.kind == "share_yes":
        return Measure(YES_NO)
    return Measure(PERCENT)


def one_decimal(value: Decimal) -> str:
    """A figure rounded to one decimal, as the person's locale writes it (13,8; 15)."""
    return format_number(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def percent(value: Decimal) -> str:
    return _("{value} %").format(value=one_decimal(value))


def change_words(direction: str | None, change: Decimal) -> str:
    """A change in the target's direction said as what happened: "giảm 1,3 điểm %" (a
    decrease target met by 1,3), "tăng 0,5 điểm %" (the same target missed: it went up)."""
    delta = -change if direction == "decrease" else change
    if delta > 0:
        return _("tăng {value} điểm %").format(value=one_decimal(delta))
    if delta < 0:
        return _("giảm {value} điểm %").format(value=one_decimal(-delta))
    return _("không đổi")


def figure(measure: Measure, value: Decimal) -> str:
    """A criterion's figure (a claimed one, or the one the data gives) in words."""
    kind = measure.kind
    if kind == PERCENT:
        return percent(value)
    if kind == YES_NO:
        return _("có") if value >= 100 else _("không")
    if kind == CHANGE:
        return change_words(measure.direction, value)
    count = format_number(value)
    if kind == ON_TIME:
        return _("{count} báo cáo đúng hạn").format(count=count)
    if kind == SENT:
        return _("{count} báo cáo đã gửi").format(count=count)
    return _("{count} gương được ghi nhận").format(count=count)


def _data(measure: Measure | None, row: dict[str, Any], due: int) -> str:
    """What a criterion's points stand on: "1.140/1.200 người = 95 %", "11/12 báo cáo"."""
    value = _decimal(row.get("value"))
    num, den = _decimal(row.get("num")), _decimal(row.get("den"))
    kind = measure.kind if measure is not None else None
    if value is None:
        if kind in (ON_TIME, SENT) and due == 0:
            return _("chưa có báo cáo nào đến hạn")
        return _("thiếu số liệu")
    if kind == PERCENT and num is not None and den is not None:
        unit = row.get("unit")
        fraction = f"{format_number(num)}/{format_number(den)}" + (f" {unit}" if unit else "")
        return _("{fraction} = {value}").format(fraction=fraction, value=percent(value))
    if kind in (ON_TIME, SENT):
        done = num if num is not None else value
        return _("{done}/{due} báo cáo").format(
            done=format_number(done), due=format_number(den if den is not None else due)
        )
    if kind == DEEDS:
        return figure(measure, num if num is not None else value) if measure else ""
    if kind == CHANGE and measure is not None:
        level, baseline = _decimal(row.get("level")), _decimal(row.get("baseline"))
        said = change_words(measure.direction, value)
        if level is None or baseline is None:
            return said
        first = row.get("baseline_period")
        if first:
            base = _("mốc là {period}: {value}").format(
                period=parse_period(first).label(), value=percent(baseline)
            )
        elif measure.baseline_year is not None:
            base = _("năm {year}: {value}").format(
                year=measure.baseline_year, value=percent(baseline)
            )
        else:
            base = _("mốc: {value}").format(value=percent(baseline))
        return _("{level} ({base}), {change}").format(level=percent(level), base=base, change=said)
    if kind == YES_NO:
        return figure(measure, value) if measure else ""
    return percent(value)


def points_of(points: Decimal, maximum: Decimal) -> str:
    return _("{points}/{max}").format(points=one_decimal(points), max=one_decimal(maximum))


def criterion_line(plan: Plan, row: dict[str, Any], due: int) -> str:
    """One line of the board with the data behind it: "Bảo hiểm y tế: 1.140/1.200 người =
    95 % → 15/15", "Điện lưới: thiếu số liệu → 0/10"; an accepted claim says what it set."""
    criterion = _criterion(plan, row["id"])
    measure = measure_of(plan, criterion) if criterion is not None else None
    title = criterion.title if criterion is not None else row["title"]
    maximum = Decimal(row["max"])
    line = _("{title}: {data} → {points}").format(
        title=title,
        data=_data(measure, row, due),
        points=points_of(Decimal(row["computed"]), maximum),
    )
    claimed = _decimal(row.get("claim"))
    if claimed is not None and measure is not None:
        line += "; " + _("theo đề nghị đã được chấp nhận ({figure}): {points}").format(
            figure=figure(measure, claimed), points=points_of(Decimal(row["points"]), maximum)
        )
    return line


def _criterion(plan: Plan, criterion_id: str) -> Criterion | None:
    if plan.scoring is None:
        return None
    try:
        return plan.scoring.criterion(criterion_id)
    except KeyError:
        return None


def board_text(plan: Plan, board: dict[str, Any], year: int) -> str:
    """The village's provisional board: a line per criterion, the total, grade and rank,
    and the claims still waiting for review."""
    due = int(board["due"])
    lines = [
        _("Tự chấm điểm thi đua năm {year} · {village}").format(year=year, village=board["name"]),
        _("Điểm tạm tính đến hết ngày {day}:").format(
            day=format_date(date.fromisoformat(board["as_of"]), DAY)
        ),
    ]
    lines += [criterion_line(plan, row, due) for row in board["rows"]]
    total = _("Tổng: {points} điểm").format(
        points=points_of(Decimal(board["total"]), Decimal(board["max"]))
    )
    if board.get("grade"):
        total += " · " + _("Xếp loại: {grade}").format(grade=board["grade"])
    total += " · " + _("Hạng {rank}/{count}").format(rank=board["rank"], count=board["villages"])
    lines.append(total)
    for criterion_id, value in board.get("pending", []):
        criterion = _criterion(plan, criterion_id)
        if criterion is not None:
            lines.append(
                _("Đề nghị đang chờ xét: {title}: {figure}").format(
                    title=criterion.title,
                    figure=figure(measure_of(plan, criterion), Decimal(value)),
                )
            )
    return "\n".join(lines)


def final_text(plan: Plan, board: Board) -> str:
    """Why nothing can be assessed any more: the council froze the year's board."""
    text = _("Bảng điểm năm {year} đã được Hội đồng chốt").format(year=board.year)
    if board.finalized_at is not None:
        day = board.finalized_at.astimezone(plan.tz).date()
        text += " " + _("ngày {day}").format(day=format_date(day, DAY))
    if board.finalized_by:
        text += f" ({board.finalized_by})"
    return text + ", " + _("nên không còn tự chấm hay đề nghị chấm lại được.")


# -- the draft, the effects, the step ---------------------------------------------------


@dataclass
class AssessmentDraft:
    year: int = 0
    village: str = ""
    board: dict[str, Any] = field(default_factory=dict)  # ``snapshot``: what the head saw
    mode: str = "menu"  # one of MODES, or "confirm_cancel"
    seq: int = 0
    criterion: str | None = None
    value: str | None = None  # the claimed figure (a Decimal as a string)
    readings: list[str] = field(default_factory=list)  # two readings of an ambiguous figure
    reason: str = ""
    photo: str | None = None  # a stored file's key
    resume: str | None = None  # at "confirm_cancel": the step to go back to

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flow"] = FLOW
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssessmentDraft:
        """A saved draft; keys it does not know are ignored, missing ones take defaults."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Agree:
    """Record that the head agrees with the village's provisional points, then call
    ``AssessmentFlow.agreed``."""

    year: int
    village: str


@dataclass(frozen=True)
class SubmitClaim:
    """Store this claim, then call ``AssessmentFlow.claimed`` with it."""

    year: int
    village: str
    criterion: str
    value: Decimal
    reason: str
    photo: str | None


@dataclass
class AssessmentStep:
    replies: list[Reply]
    draft: AssessmentDraft | None
    effect: Agree | SubmitClaim | None = None


class AssessmentFlow:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # -- entry points -------------------------------------------------------------------

    def start(self, board: Board, village_id: str) -> AssessmentStep:
        """``/tucham``: the village's provisional board and the menu; a frozen board is
        shown with why nothing can change (no draft then)."""
        if board.final:
            text = board_text(self.plan, snapshot(self.plan, board, village_id), board.year)
            return AssessmentStep([Reply(f"{text}\n\n{final_text(self.plan, board)}")], None)
        draft = AssessmentDraft(
            year=board.year, village=village_id, board=snapshot(self.plan, board, village_id)
        )
        return self._show(draft, [])

    def prompt(self, draft: AssessmentDraft) -> Reply:
        return self._render(draft)

    def resume(self, draft: AssessmentDraft) -> AssessmentStep:
        """``/tieptuc`` with the draft open: where the head stopped; at the "drop it?"
        question, the claim goes on where it was."""
        if draft.mode == "confirm_cancel":
            draft.mode = draft.resume or "menu"
            draft.resume = None
            return self._show(draft, [])
        lead = _("Bạn đang làm dở phần tự chấm điểm. Tiếp tục từ chỗ đã dừng:")
        return self._show(draft, [lead], bump=False)

    def cancel(self, draft: AssessmentDraft) -> AssessmentStep:
        """``/huy``: nothing typed yet closes at once; a claim begun asks first."""
        if draft.mode in ("menu", "criterion"):
            return AssessmentStep([Reply(_("Đã đóng phần tự chấm điểm."))], None)
        if draft.mode != "confirm_cancel":
            draft.resume = draft.mode
            draft.mode = "confirm_cancel"
        return self._show(draft, [])

    def agreed(self, draft: AssessmentDraft) -> AssessmentStep:
        text = _(
            "Đã ghi nhận: {village} đồng ý với kết quả tự chấm năm {year} ({points} điểm). "
            "Cảm ơn anh/chị!"
        ).format(
            village=draft.board["name"],
            year=draft.year,
            points=points_of(Decimal(draft.board["total"]), Decimal(draft.board["max"])),
        )
        return AssessmentStep([Reply(text)], None)

    def claimed(self, draft: AssessmentDraft, claim: Claim) -> AssessmentStep:
        criterion = _criterion(self.plan, claim.criterion_id)
        title = criterion.title if criterion is not None else claim.criterion_id
        said = figure(measure_of(self.plan, criterion), claim.value) if criterion else ""
        text = _(
            "Đã gửi đề nghị số {id}: {title}: {figure}. Thường trực Hội đồng Thi đua – "
            "Khen thưởng sẽ xem xét và báo lại. Gõ /tucham để đề nghị thêm tiêu chí khác."
        ).format(id=claim.id, title=title, figure=said)
        return AssessmentStep([Reply(text)], None)

    def refused(self, message: str) -> AssessmentStep:
        """What was to be stored could not be (the board was frozen meanwhile): say why
        and close."""
        return AssessmentStep([Reply(message)], None)

    # -- one input ----------------------------------------------------------------------

    def handle(self, draft: AssessmentDraft, inp: Input) -> AssessmentStep:
        token: str | None = None
        if inp.kind == "choice":
            seq, _sep, token = inp.text.partition(":")
            if token_number(seq) != draft.seq:
                stale = _("Nút này thuộc một bước trước nên không còn dùng được.")
                return self._show(draft, [stale], bump=False)
        elif inp.kind == "text":
            token = self._typed(draft, inp.text)
        if token == BACK:
            return self._back(draft)
        if draft.mode not in (*MODES, "confirm_cancel"):  # a mode this version does not know
            draft.mode = "menu"
            return self._show(draft, [])
        handler = getattr(self, f"_on_{draft.mode}")
        step: AssessmentStep = handler(draft, inp, token)
        return step

    def _typed(self, draft: AssessmentDraft, text: str) -> str | None:
        """The token a typed text stands for: a choice's words, "Quay lại", or on a
        choice-only screen a choice's number; None when it is an answer."""
        wanted = normalize_text(text)
        choices = self._choices(draft)
        for choice in choices:
            if wanted == normalize_text(choice.label):
                return choice.value.partition(":")[2]
        if wanted == normalize_text(_("Quay lại")) and draft.mode != "menu":
            return BACK
        if not self._typed_answer(draft):
            number = menu_number(wanted)
            if number is not None and 1 <= number <= len(choices):
                return choices[number - 1].value.partition(":")[2]
        return None

    def _on_menu(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        if token == AGREE:
            return AssessmentStep([], draft, Agree(draft.year, draft.village))
        if token == CLAIM:
            draft.mode = "criterion"
            return self._show(draft, [])
        if token == LATER:
            text = _("Đã đóng. Gõ /tucham khi cần xem lại điểm của thôn.")
            return AssessmentStep([Reply(text)], None)
        return self._show(draft, [_("Xin chọn một mục bên dưới.")], bump=False)

    def _on_criterion(
        self, draft: AssessmentDraft, inp: Input, token: str | None
    ) -> AssessmentStep:
        rows = draft.board.get("rows", [])
        index = token_number(token[1:]) if token and token.startswith("c") else None
        if index is None or index >= len(rows):
            return self._show(draft, [_("Xin chọn một tiêu chí.")], bump=False)
        criterion = _criterion(self.plan, rows[index]["id"])
        if criterion is None:
            gone = _("Tiêu chí này không còn trong kế hoạch; xin chọn tiêu chí khác.")
            return self._show(draft, [gone], bump=False)
        if measure_of(self.plan, criterion).kind in (ON_TIME, SENT) and not draft.board["due"]:
            nothing = _("Chưa có báo cáo nào đến hạn trong năm, nên chưa thể đề nghị tiêu chí này.")
            return self._show(draft, [nothing], bump=False)
        if criterion.id != draft.criterion:
            draft.value, draft.readings = None, []
        draft.criterion = criterion.id
        draft.mode = "value"
        return self._show(draft, [])

    def _on_value(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        criterion = self._chosen(draft)
        if criterion is None:
            return self._lost(draft)
        measure = measure_of(self.plan, criterion)
        if measure.kind == YES_NO:
            if token in (YES, NO):
                return self._take(draft, criterion, Decimal(100 if token == YES else 0))
            return self._show(draft, [_("Xin chọn Có hoặc Không.")], bump=False)
        if inp.kind == "photo":
            return self._show(draft, [_("Bước này cần một con số, không phải ảnh.")], bump=False)
        if inp.kind != "text":
            return self._show(draft, [_("Xin gõ một con số.")], bump=False)
        value, readings, problem = self._read(draft, measure, inp.text)
        if problem is not None:
            return self._show(draft, [problem], bump=False)
        if readings:
            draft.readings = [str(r) for r in readings]
            draft.mode = "reading"
            return self._show(draft, [])
        assert value is not None
        return self._take(draft, criterion, value)

    def _on_reading(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        criterion = self._chosen(draft)
        if criterion is None:
            return self._lost(draft)
        index = token_number(token[1:]) if token and token.startswith("r") else None
        if index is None or index >= len(draft.readings):
            return self._show(draft, [_("Xin chọn một trong hai cách đọc.")], bump=False)
        value = Decimal(draft.readings[index])
        draft.readings = []
        return self._take(draft, criterion, value)

    def _on_reason(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        if inp.kind == "photo":
            return self._show(draft, [_("Bước này cần chữ, không phải ảnh.")], bump=False)
        text = clean_text(inp.text) if inp.kind == "text" else ""
        if not text:
            required = _("Lý do là bắt buộc: xin gõ vì sao thôn đề nghị con số này.")
            return self._show(draft, [required], bump=False)
        if len(text) > REASON_LIMIT:
            long = _(
                "Dài quá: tối đa {limit} ký tự, bạn đã gửi {count} ký tự. Xin rút gọn rồi gửi lại."
            ).format(limit=format_number(REASON_LIMIT), count=format_number(len(text)))
            return self._show(draft, [long], bump=False)
        draft.reason = text
        draft.mode = "photo"
        return self._show(draft, [])

    def _on_photo(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        if token == SKIP:
            draft.photo = None
            draft.mode = "confirm"
            return self._show(draft, [])
        if token == KEEP and draft.photo is not None:
            draft.mode = "confirm"
            return self._show(draft, [])
        if inp.kind == "photo":
            problem = photo_problem(inp)
            if problem is not None or inp.file_id is None:
                return self._show(draft, [problem or ""], bump=False)
            draft.photo = inp.file_id
            draft.mode = "confirm"
            return self._show(draft, [_("Đã nhận ảnh minh chứng.")])
        return self._show(draft, [_("Xin gửi ảnh, hoặc chọn một mục bên dưới.")], bump=False)

    def _on_confirm(self, draft: AssessmentDraft, inp: Input, token: str | None) -> AssessmentStep:
        if token == SEND:
            criterion = self._chosen(draft)
            if criterion is None or draft.value is None:
                return self._lost(draft)
            if not draft.reason:  # only a draft saved by hand: ask for the reason
                draft.mode = "reason"
                return self._show(draft, [])
            effect = SubmitClaim(
                draft.year,
                draft.village,
                criterion.id,
                Decimal(draft.value),
                draft.reason,
                draft.photo,
            )
            return AssessmentStep([], draft, effect)
        if token == CANCEL:
            return self.cancel(draft)
        return self._show(draft, [_("Xin chọn Gửi, Quay lại hoặc Hủy.")], bump=False)

    def _on_confirm_cancel(
        self, draft: AssessmentDraft, inp: Input, token: str | None
    ) -> AssessmentStep:
        if token == YES:
            return AssessmentStep([Reply(_("Đã bỏ đề nghị đang làm."))], None)
        if token == NO:
            draft.mode = draft.resume or "menu"
            draft.resume = None
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn Có hoặc Không.")], bump=False)

    # -- the claimed figure -------------------------------------------------------------

    def _read(
        self, draft: AssessmentDraft, measure: Measure, text: str
    ) -> tuple[Decimal | None, tuple[Decimal, ...], str | None]:
        """The figure typed: one value, or two readings to choose from, or what is wrong
        with it (not a number, "khoảng", out of what the criterion can take)."""
        kind = measure.kind
        integer = kind in (ON_TIME, SENT, DEEDS)
        parsed = parse_number(text, "integer" if integer else "decimal", kind == CHANGE)
        if isinstance(parsed, Invalid):
            return None, (), self._invalid(measure, parsed.reason, draft)
        if isinstance(parsed, Ambiguous):
            fitting = tuple(
                r for r in parsed.options if self._out_of_range(measure, r, draft) is None
            )
            if len(fitting) == 2:
                return None, fitting, None
            if not fitting:
                return None, (), self._out_of_range(measure, parsed.options[0], draft)
            value = fitting[0]
        else:
            if parsed.approximate:
                return None, (), _("Xin gõ con số chính xác, không kèm “khoảng”.")
            value = parsed.value
        if integer and value != value.to_integral_value():
            return None, (), self._invalid(measure, "not_integer", draft)
        problem = self._out_of_range(measure, value, draft)
        if problem is not None:
            return None, (), problem
        return value, (), None

    def _invalid(self, measure: Measure, reason: str, draft: AssessmentDraft) -> str:
        kind = measure.kind
        if reason == "negative":
            if kind in (ON_TIME, SENT):
                return _("Số báo cáo không thể âm.")
            if kind == DEEDS:
                return _("Số gương không thể âm.")
            return _("Tỷ lệ không thể âm.")
        if reason == "not_integer":
            if kind == DEEDS:
                return _("Số gương phải là số nguyên, ví dụ 3.")
            return _("Số báo cáo phải là số nguyên, ví dụ 11.")
        if reason in ("too_long", "too_large"):
            return self._range_text(measure, draft)
        return self._hint(measure, draft)

    def _out_of_range(self, measure: Measure, value: Decimal, draft: AssessmentDraft) -> str | None:
        kind = measure.kind
        if kind == PERCENT and value > 100:
            return _("Tỷ lệ không thể quá 100 %.")
        if kind == PERCENT and value < 0:
            return _("Tỷ lệ không thể âm.")
        if kind == CHANGE and abs(value) > CHANGE_LIMIT:
            return self._range_text(measure, draft)
        if kind in (ON_TIME, SENT) and value > int(draft.board["due"]):
            return _(
                "Từ đầu năm {year} đến nay thôn có {due} báo cáo phải gửi, nên không thể "
                "có {value}."
            ).format(
                year=draft.year,
                due=format_number(int(draft.board["due"])),
                value=figure(measure, value),
            )
        return None

    def _range_text(self, measure: Measure, draft: AssessmentDraft) -> str:
        kind = measure.kind
        if kind == CHANGE:
            return _("Mức thay đổi phải trong khoảng từ −100 đến 100 điểm %.")
        if kind in (ON_TIME, SENT):
            return _("Số báo cáo phải từ 0 đến {due}.").format(
                due=format_number(int(draft.board["due"]))
            )
        if kind == DEEDS:
            return _("Số này lớn quá; xin gõ số gương được ghi nhận.")
        return _("Tỷ lệ không thể quá 100 %.")

    def _take(self, draft: AssessmentDraft, criterion: Criterion, value: Decimal) -> AssessmentStep:
        """A figure that fits: the same as the data's is refused (nothing to claim), else
        the reason step, the points the figure gives shown first."""
        row = self._row(draft, criterion.id)
        measure = measure_of(self.plan, criterion)
        current = _decimal(row.get("value")) if row else None
        if row and measure.kind in (ON_TIME, SENT, DEEDS) and row.get("num") is not None:
            current = _decimal(row["num"])
        if current is not None and current == value and row and row.get("claim") is None:
            same = _(
                "Con số này trùng với số liệu đang tính ({figure}), nên không cần đề nghị. "
                "Gõ con số khác, hoặc Quay lại."
            ).format(figure=figure(measure, value))
            moved = draft.mode != "value"
            draft.mode = "value"
            return self._show(draft, [same], bump=moved)
        draft.value = str(value)
        draft.mode = "reason"
        return self._show(draft, [self._priced(draft, criterion, value)])

    def _claim_points(
        self, draft: AssessmentDraft, criterion: Criterion, value: Decimal
    ) -> Decimal:
        return rules.claim_points(self.plan, criterion, value, int(draft.board["due"]))

    def _priced(self, draft: AssessmentDraft, criterion: Criterion, value: Decimal) -> str:
        """ "Đề nghị: 96 % → 15/15 điểm (đang tính: 13,5/15).\""""
        row = self._row(draft, criterion.id) or {}
        maximum = criterion.points
        return _("Đề nghị: {figure} → {points} điểm (đang tính: {current}).").format(
            figure=figure(measure_of(self.plan, criterion), value),
            points=points_of(self._claim_points(draft, criterion, value), maximum),
            current=points_of(Decimal(row.get("points", "0")), maximum),
        )

    # -- navigation ---------------------------------------------------------------------

    def _chosen(self, draft: AssessmentDraft) -> Criterion | None:
        return _criterion(self.plan, draft.criterion or "")

    def _row(self, draft: AssessmentDraft, criterion_id: str) -> dict[str, Any] | None:
        return next((r for r in draft.board.get("rows", []) if r["id"] == criterion_id), None)

    def _lost(self, draft: AssessmentDraft) -> AssessmentStep:
        """The chosen criterion left the plan meanwhile: choose again."""
        draft.criterion, draft.value, draft.readings = None, None, []
        draft.mode = "criterion"
        gone = _("Tiêu chí này không còn trong kế hoạch; xin chọn tiêu chí khác.")
        return self._show(draft, [gone])

    def _back(self, draft: AssessmentDraft) -> AssessmentStep:
        """One step back; every answer is kept and shown again."""
        before = {
            "criterion": "menu",
            "value": "criterion",
            "reading": "value",
            "reason": "value",
            "photo": "reason",
            "confirm": "photo",
        }
        if draft.mode not in before:
            return self._show(draft, [], bump=False)
        draft.readings = []
        draft.mode = before[draft.mode]
        return self._show(draft, [])

    # -- rendering ----------------------------------------------------------------------

    def _show(self, draft: AssessmentDraft, lead: list[str], bump: bool = True) -> AssessmentStep:
        if bump:
            draft.seq += 1
        reply = self._render(draft)
        text = "\n\n".join([*[line for line in lead if line], reply.text])
        return AssessmentStep([replace(reply, text=text)], draft)

    def _typed_answer(self, draft: AssessmentDraft) -> bool:
        """Whether the screen's answer is typed (a figure, a reason), its choices extras."""
        if draft.mode == "value":
            criterion = self._chosen(draft)
            return criterion is None or measure_of(self.plan, criterion).kind != YES_NO
        return draft.mode == "reason"

    def _render(self, draft: AssessmentDraft) -> Reply:
        return Reply(
            self._screen(draft),
            tuple(self._choices(draft)),
            typed_answer=self._typed_answer(draft),
            asks_photo=draft.mode == "photo",
        )

    def _choice(self, draft: AssessmentDraft, label: str, token: str) -> Choice:
        return Choice(label, f"{draft.seq}:{token}")

    def _choices(self, draft: AssessmentDraft) -> list[Choice]:
        c = self._choice
        back = c(draft, _("Quay lại"), BACK)
        mode = draft.mode
        if mode == "menu":
            return [
                c(draft, _("Đồng ý"), AGREE),
                c(draft, _("Đề nghị chấm lại"), CLAIM),
                c(draft, _("Để sau"), LATER),
            ]
        if mode == "criterion":
            rows = draft.board.get("rows", [])
            titles = [self._title(row) for row in rows]
            return [c(draft, title, f"c{i}") for i, title in enumerate(titles)] + [back]
        if mode == "value":
            criterion = self._chosen(draft)
            if criterion is not None and measure_of(self.plan, criterion).kind == YES_NO:
                return [c(draft, _("Có"), YES), c(draft, _("Không"), NO), back]
            return [back]
        if mode == "reading":
            return [
                c(draft, format_number(Decimal(r)), f"r{i}") for i, r in enumerate(draft.readings)
            ] + [back]
        if mode == "reason":
            return [back]
        if mode == "photo":
            if draft.photo is not None:
                return [
                    c(draft, _("Giữ ảnh đã gửi"), KEEP),
                    c(draft, _("Không dùng ảnh"), SKIP),
                    back,
                ]
            return [c(draft, _("Bỏ qua"), SKIP), back]
        if mode == "confirm":
            return [c(draft, _("Gửi"), SEND), back, c(draft, _("Hủy"), CANCEL)]
        if mode == "confirm_cancel":
            return [c(draft, _("Có, bỏ đề nghị"), YES), c(draft, _("Không, làm tiếp"), NO)]
        return []

    def _title(self, row: dict[str, Any]) -> str:
        criterion = _criterion(self.plan, row["id"])
        return criterion.title if criterion is not None else str(row["title"])

    def _hint(self, measure: Measure, draft: AssessmentDraft) -> str:
        """How to type the figure a criterion takes."""
        kind = measure.kind
        if kind == PERCENT:
            return _("Gõ tỷ lệ (%) thôn đề nghị, ví dụ 96 % hoặc 96,5.")
        if kind == CHANGE:
            verb = _("giảm") if measure.direction == "decrease" else _("tăng")
            return _(
                "Gõ mức {verb} (điểm %) so với mốc mà thôn đề nghị, ví dụ 1,2 (số âm nếu "
                "ngược chiều)."
            ).format(verb=verb)
        if kind == YES_NO:
            return _("Chọn Có hoặc Không.")
        due = format_number(int(draft.board.get("due", 0)))
        if kind == ON_TIME:
            return _("Gõ số báo cáo gửi đúng hạn mà thôn đề nghị (tối đa {due}), ví dụ 11.").format(
                due=due
            )
        if kind == SENT:
            return _("Gõ số báo cáo đã gửi mà thôn đề nghị (tối đa {due}), ví dụ 11.").format(
                due=due
            )
        return _("Gõ số gương người tốt, việc tốt được xã ghi nhận mà thôn đề nghị, ví dụ 3.")

    def _screen(self, draft: AssessmentDraft) -> str:
        mode = draft.mode
        if mode == "menu":
            return "\n\n".join(
                [
                    board_text(self.plan, draft.board, draft.year),
                    _("Thôn đồng ý với kết quả tạm tính, hay đề nghị chấm lại một tiêu chí?"),
                ]
            )
        if mode == "criterion":
            return _("Đề nghị chấm lại tiêu chí nào?")
        if mode == "confirm_cancel":
            return _("Bỏ đề nghị đang làm? Những gì đã nhập sẽ mất.")
        criterion = self._chosen(draft)
        if criterion is None:
            return _("Đề nghị chấm lại tiêu chí nào?")
        measure = measure_of(self.plan, criterion)
        row = self._row(draft, criterion.id)
        current = criterion_line(self.plan, row, int(draft.board["due"])) if row else ""
        if mode == "value":
            return "\n".join([current, self._hint(measure, draft)])
        value = Decimal(draft.value) if draft.value is not None else None
        if mode == "reading":
            a, b = (format_number(Decimal(r)) for r in draft.readings)
            return _("Con số vừa gõ đọc được hai cách: {a} hay {b}? Xin chọn một.").format(a=a, b=b)
        if mode == "reason":
            return _(
                "Vì sao thôn đề nghị con số này? Gõ lý do (bắt buộc, tối đa {limit} ký tự)."
            ).format(limit=format_number(REASON_LIMIT))
        if mode == "photo":
            if draft.photo is not None:
                return _("Đã có một ảnh minh chứng. Gửi ảnh khác để thay, hoặc chọn một mục.")
            return _("Gửi một ảnh làm minh chứng (không bắt buộc), hoặc chọn Bỏ qua.")
        lines = [
            _("Tóm tắt đề nghị chấm lại:"),
            _("Tiêu chí: {title}").format(title=criterion.title),
            _("Đang tính: {line}").format(line=current),
        ]
        if value is not None:
            lines.append(self._priced(draft, criterion, value))
        lines += [
            _("Lý do: {reason}").format(reason=draft.reason),
            _("Ảnh minh chứng: {photo}").format(
                photo=_("có") if draft.photo is not None else _("không")
            ),
            "",
            _("Chọn Gửi để gửi đề nghị tới thường trực Hội đồng Thi đua – Khen thưởng."),
        ]
        return "\n".join(lines)


# -- the secretariat's review: pure texts -----------------------------------------------

ACCEPT_WORD, REFUSE_WORD = "chapnhan", "tuchoi"  # /tucham_ds <id> chapnhan | tuchoi


def status_name(status: str) -> str:
    if status == PENDING:
        return _("chờ xét")
    if status == "accepted":
        return _("đã chấp nhận")
    return _("chưa được chấp nhận")


def claim_title(plan: Plan, claim: Claim) -> str:
    criterion = _criterion(plan, claim.criterion_id)
    return criterion.title if criterion is not None else claim.criterion_id


def claim_figure(plan: Plan, claim: Claim) -> str:
    """The claimed figure in words ("96 %", "11 báo cáo đúng hạn")."""
    criterion = _criterion(plan, claim.criterion_id)
    if criterion is None:
        return format_number(claim.value)
    return figure(measure_of(plan, criterion), claim.value)


def claim_points_text(plan: Plan, claim: Claim, due: int) -> str:
    """The points the claimed figure gives, out of the criterion's ("15/15")."""
    criterion = _criterion(plan, claim.criterion_id)
    if criterion is None:
        return ""
    return points_of(rules.claim_points(plan, criterion, claim.value, due), criterion.points)


def village_name(plan: Plan, village_id: str) -> str:
    village = plan.village(village_id)
    return village.name if village is not None else village_id


def claim_card(
    plan: Plan,
    claim: Claim,
    current: CriterionScore | None,
    due: int,
    by: str,
    has_photo: bool,
) -> str:
    """A claim in full, for the secretariat: the village, the criterion, what the data
    gives (``current``: the criterion's score on the board now) and what the head claims,
    the reason, who and when, whether a photo came with it."""
    lines = [
        _("Đề nghị chấm lại số {id} · {village} · năm {year} · {status}").format(
            id=claim.id,
            village=village_name(plan, claim.village_id),
            year=claim.year,
            status=status_name(claim.status),
        ),
        _("Tiêu chí: {title}").format(title=claim_title(plan, claim)),
    ]
    if current is not None:
        line = criterion_line(plan, row_of(current), due)
        lines.append(_("Đang tính: {line}").format(line=line))
    lines += [
        _("Thôn đề nghị: {figure} → {points}").format(
            figure=claim_figure(plan, claim), points=claim_points_text(plan, claim, due)
        ),
        _("Lý do: {reason}").format(reason=claim.reason),
        _("Người gửi: {name}, ngày {date}").format(
            name=by, date=format_date(claim.created_at.astimezone(plan.tz).date(), DAY)
        ),
        _("Ảnh minh chứng: {photo}").format(photo=_("có") if has_photo else _("không")),
    ]
    if claim.status != PENDING and claim.comment:
        lines.append(_("Ý kiến của thường trực: {comment}").format(comment=claim.comment))
    return "\n".join(lines)


def claim_buttons(claim: Claim) -> tuple[Choice, ...]:
    """Accept or refuse: commands, so that they can be typed where there are no buttons."""
    if claim.status != PENDING:
        return ()
    return (
        Choice(_("Chấp nhận"), f"/tucham_ds {claim.id} {ACCEPT_WORD}"),
        Choice(_("Từ chối"), f"/tucham_ds {claim.id} {REFUSE_WORD}"),
    )


def refuse_prompt(plan: Plan, claim: Claim) -> str:
    return _(
        "Vì sao không chấp nhận đề nghị số {id} ({village} · {title}: {figure})? Gõ ý kiến "
        "gửi trưởng thôn (bắt buộc)."
    ).format(
        id=claim.id,
        village=village_name(plan, claim.village_id),
        title=claim_title(plan, claim),
        figure=claim_figure(plan, claim),
    )


def told_accepted(
    plan: Plan,
    claim: Claim,
    points: Decimal | None = None,
    total: Decimal | None = None,
    maximum: Decimal | None = None,
) -> str:
    """What the head is told when the claim was accepted: the criterion's new points and
    the new total (when the board still has the criterion)."""
    criterion = _criterion(plan, claim.criterion_id)
    text = _("Đề nghị số {id} ({title}: {figure}) đã được chấp nhận.").format(
        id=claim.id, title=claim_title(plan, claim), figure=claim_figure(plan, claim)
    )
    if criterion is None or points is None or total is None or maximum is None:
        return text
    return (
        text
        + " "
        + _("Điểm tiêu chí: {points}; tổng điểm tạm tính của {village}: {total}.").format(
            points=points_of(points, criterion.points),
            village=village_name(plan, claim.village_id),
            total=points_of(total, maximum),
        )
    )


def told_refused(plan: Plan, claim: Claim) -> str:
    """What the head is told when the claim was refused: the secretariat's comment."""
    return _(
        "Đề nghị số {id} ({title}: {figure}) chưa được chấp nhận. Ý kiến của thường trực: {comment}"
    ).format(
        id=claim.id,
        title=claim_title(plan, claim),
        figure=claim_figure(plan, claim),
        comment=claim.comment,
    )
