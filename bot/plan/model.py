"""The emulation plan: villages, report forms and the indicators they feed.

A plan is a YAML file (``plans/nam-dong-2024.yaml`` by default). ``check_plan``
reads it and reports every problem it finds, each with the line it is on, so
the commune's secretariat can fix a plan in one go; ``load_plan`` does the same
and raises ``PlanError`` when anything is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.i18n import _
from bot.plan.yaml_errors import syntax_problem
from bot.text import normalize_text

_T = TypeVar("_T")

QUESTION_TYPES = ("integer", "decimal", "yes_no", "choice", "text", "photo")
NUMERIC_TYPES = ("integer", "decimal")
PERIOD_KINDS = ("week", "month", "quarter", "year")
ROLES = ("head", "secretariat", "chair", "admin", "officer")
# Who fills a form: a village's head for each village, or a commune officer for the commune.
FORM_LEVELS = ("village", "commune")
# The village id a commune-level form's reports are stored under (no village may take it).
COMMUNE_ID = "_xa"
# A target on the change from the baseline rather than on the level: "decrease >= 1".
TARGET_DIRECTIONS = ("increase", "decrease")
# What a scoring criterion measures when it reads no indicator.
SCORING_MEASURES = ("on_time", "completeness", "good_deeds")
TARGET_OPS = (">=", "<=", ">", "<", "==")
INDICATOR_KINDS = ("ratio", "share_yes", "sum")

DEFAULT_PLAN_PATH = Path(__file__).resolve().parents[2] / "plans" / "nam-dong-2024.yaml"

REQUIRED_PLAN_KEYS = ("plan", "title", "commune", "timezone", "villages", "forms")
# Every top-level key the plan reads; others are left alone (for later versions).
PLAN_KEYS = (
    *REQUIRED_PLAN_KEYS,
    "starts",
    "ends",
    "indicators",
    "schedule",
    "nomination_kinds",
    "min_coverage",
    "corrections_days",
    "scoring",
)
# The keys of the ``scoring`` section, of each of its criteria and of each of its grades.
SCORING_KEYS = ("criteria", "grades")
CRITERION_KEYS = ("id", "title", "points", "indicator", "measure", "target", "zero_at", "per_item")
GRADE_KEYS = ("name", "at_least", "each_at_least", "at_most_share")
# The words a change target may start with (compared without case or diacritics).
_DIRECTION_WORDS = {
    "increase": "increase",
    "tang": "increase",
    "decrease": "decrease",
    "giam": "decrease",
}
# The years a ``baseline_year`` may name.
BASELINE_YEARS = (1900, 2100)
# How many days after a period's due day a report already sent may still be corrected
# (``corrections_days``), and the most a plan may say.
DEFAULT_CORRECTIONS_DAYS = 30
MAX_CORRECTIONS_DAYS = 366
# The share of villages (in %) whose figures a ratio or a share must stand on before the
# digest says whether its target is met (``min_coverage``); a sum needs every village.
DEFAULT_MIN_COVERAGE = Decimal(80)
SCHEDULE_KEYS = ("reminders", "reminder_time", "digest", "quiet_hours")
# How far from the due day a reminder may be, in days either way.
MAX_REMINDER_OFFSET = 31
QUESTION_KEYS = (
    "id",
    "ask",
    "type",
    "label",
    "unit",
    "min",
    "max",
    "at_most",
    "choices",
    "optional",
)
# The last day ``due`` may name in each kind of period.
MAX_DUE = {"week": 7, "month": 31, "quarter": 92, "year": 366}
FORM_REQUIRED_KEYS = ("id", "title", "period", "due", "questions")
# A baseline form needs no ``due``: it is never reminded nor due; without one its due day is
# the last of the year (the period's last day, as ``Period.due_date`` clamps).
BASELINE_DUE = MAX_DUE["year"]

_ID_RE = re.compile(r"[a-z0-9_]+")
_TARGET_RE = re.compile(r"\s*(?:([^\W\d_]+)\s*)?(>=|<=|==|=|>|<|≥|≤)?\s*(.+?)\s*")
_OP_ALIASES = {"=": "==", "≥": ">=", "≤": "<="}
_TIME_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_QUIET_RE = re.compile(r"\s*(\S+?)\s*[-–]\s*(\S+)\s*")

# The kinds of good examples (gương người tốt, việc tốt) a nomination is sent as, each a
# Telegram button: when the plan names none, these.
DEFAULT_NOMINATION_KINDS = (
    "Sản xuất kinh doanh giỏi",
    "Từ thiện nhân đạo",
    "Sáng kiến cải tiến",
    "Cán bộ gương mẫu",
    "Người tốt việc tốt",
    "Khác",
)
MAX_NOMINATION_KINDS = 12
MAX_NOMINATION_KIND_LENGTH = 40  # characters

# Names of the days of the week, Monday first.
_WEEKDAYS = (
    ("monday", "thứ hai", "thứ 2", "t2"),
    ("tuesday", "thứ ba", "thứ 3", "t3"),
    ("wednesday", "thứ tư", "thứ 4", "t4"),
    ("thursday", "thứ năm", "thứ 5", "t5"),
    ("friday", "thứ sáu", "thứ 6", "t6"),
    ("saturday", "thứ bảy", "thứ 7", "t7"),
    ("sunday", "chủ nhật", "cn"),
)


# --------------------------------------------------------------------------- text


def _normalize(text: str) -> str:
    """Lowercase, without diacritics (đ → d), runs of spaces, ``_`` and ``-`` as one space."""
    return re.sub(r"[\s_\-]+", " ", normalize_text(text)).strip()


def _match_key(text: str) -> str:
    """What two village names must share to be the same village: no case, marks or spaces."""
    return _normalize(text).replace(" ", "")


def _weekday(text: str) -> int | None:
    """Monday = 0 … Sunday = 6 from ``monday``, ``Thứ Hai``, ``thu 2``, ``CN``…; else None."""
    return _WEEKDAY_KEYS.get(_match_key(text))


_WEEKDAY_KEYS = {
    _match_key(name): number for number, names in enumerate(_WEEKDAYS) for name in names
}


def slugify(name: str) -> str:
    """A village id from its name: ``Thôn 1`` → ``thon_1``."""
    return re.sub(r"[^a-z0-9]+", "_", _normalize(name)).strip("_")


# The longest label made from a question's ``ask`` (a label is a button and a header).
MAX_SHORT_LABEL = 40


def short_label(ask: str) -> str:
    """A question's label when the plan gives none: its ``ask`` without the question mark
    (or a closing colon or full stop), cut at a word boundary with “…” to at most
    ``MAX_SHORT_LABEL`` characters: ``Bao nhiêu hộ có điện?`` → ``Bao nhiêu hộ có điện``."""
    text = " ".join(ask.split()).rstrip(" ?？:.")
    if not text:
        return ask.strip()
    if len(text) <= MAX_SHORT_LABEL:
        return text
    cut = text[: MAX_SHORT_LABEL - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-–") + "…"


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Question:
    id: str
    ask: str
    type: str
    label: str
    unit: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    at_most: str | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    period: str
    due: int
    questions: tuple[Question, ...]
    level: str = "village"  # one of FORM_LEVELS
    # A baseline form: filled once per village by a commune officer, it gives the villages'
    # figures for the reference year that change targets are measured against.
    baseline: bool = False

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


@dataclass(frozen=True)
class Village:
    id: str
    name: str


@dataclass(frozen=True)
class Target:
    op: str
    value: Decimal
    # None: the target is on the value itself; "increase" / "decrease": on the change from
    # the baseline (value − baseline, or baseline − value), in percentage points for ratios.
    direction: str | None = None

    def change(self, value: Decimal, baseline: Decimal) -> Decimal:
        """What a change target is measured on: ``value − baseline`` for an increase,
        ``baseline − value`` for a decrease (a plain target: the value itself)."""
        if self.direction == "decrease":
            return baseline - value
        if self.direction == "increase":
            return value - baseline
        return value

    @classmethod
    def parse(cls, spec: str | int | float | Decimal) -> Target:
        """``">= 100"``, ``"<=23"``, ``"== 6"`` or a bare number (meaning ``>=``); a change
        target starts with its direction: ``"decrease >= 1"``, ``"increase >= 2"``, or in
        Vietnamese ``"giảm >= 1"``, ``"tăng >= 2"`` (case and diacritics ignored)."""
        if isinstance(spec, bool):
            raise ValueError(spec)
        if isinstance(spec, int | float | Decimal):
            value = _to_decimal(spec)
            if value is None:
                raise ValueError(spec)
            return cls(">=", value)
        if not isinstance(spec, str):
            raise ValueError(spec)
        match = _TARGET_RE.fullmatch(spec)
        if match is None:
            raise ValueError(spec)
        direction = None
        if match.group(1) is not None:
            direction = _DIRECTION_WORDS.get(_normalize(match.group(1)))
            if direction is None:
                raise ValueError(spec)
        op = match.group(2) or ">="
        value = _to_decimal(match.group(3))
        if value is None:
            raise ValueError(spec)
        return cls(_OP_ALIASES.get(op, op), value, direction)

    def met(self, value: Decimal) -> bool:
        if self.op == ">=":
            return value >= self.value
        if self.op == "<=":
            return value <= self.value
        if self.op == ">":
            return value > self.value
        if self.op == "<":
            return value < self.value
        return value == self.value

    def __str__(self) -> str:
        """The target as a plan writes it: ``>= 100``, ``decrease >= 1``."""
        text = f"{self.op} {format(self.value, 'f')}"
        return f"{self.direction} {text}" if self.direction else text


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    kind: str
    questions: tuple[str, ...]
    target: Target | None
    unit: str | None = None
    # The commune's figure for the reference year (``baseline``, in the indicator's unit;
    # for ``baseline_year``), and the questions of a baseline form that give each village's
    # (``baseline_from``, shaped like the indicator's own: two for a ratio, one otherwise).
    baseline: Decimal | None = None
    baseline_year: int | None = None
    baseline_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Criterion:
    """One line of the scoreboard: up to ``points`` for a village, from an indicator's value
    (``indicator``, against ``target`` or the indicator's own, zero at ``zero_at``) or from
    a ``measure`` (one of SCORING_MEASURES; ``per_item`` points per good deed)."""

    id: str
    title: str
    points: Decimal
    indicator: str | None = None
    measure: str | None = None
    target: Target | None = None
    zero_at: Decimal | None = None
    per_item: Decimal | None = None


@dataclass(frozen=True)
class Grade:
    """A grade a village may take: a total of at least ``at_least`` % of the maximum, every
    criterion at ``each_at_least`` % of its own points or more, and at most
    ``at_most_share`` % of the villages (None: no such condition)."""

    name: str
    at_least: Decimal | None = None
    each_at_least: Decimal | None = None
    at_most_share: Decimal | None = None


@dataclass(frozen=True)
class Scoring:
    """How villages are scored: the criteria (in board order) and the grades (best first;
    the last is the one a village takes when it meets no other)."""

    criteria: tuple[Criterion, ...]
    grades: tuple[Grade, ...]

    @property
    def max(self) -> Decimal:
        return sum((c.points for c in self.criteria), Decimal(0))

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)


@dataclass(frozen=True)
class QuietHours:
    """Hours when nothing the bot starts itself is sent (local wall time of the plan)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """``start <= moment < end``, wrapping past midnight when start > end (21:00-07:00).

        ``moment`` is a naive wall time.
        """
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class Schedule:
    """When the bot sends reminders and the weekly digest on its own."""

    reminders: tuple[int, ...] = (-3, 0, 1)  # days relative to each form's due day, ascending
    reminder_time: time = time(8, 0)
    digest_weekday: int | None = 0  # Monday = 0 … Sunday = 6; None = no weekly digest
    digest_time: time = time(7, 30)
    quiet_hours: QuietHours | None = QuietHours(time(21, 0), time(7, 0))


@dataclass(frozen=True)
class Plan:
    version: int
    title: str
    commune: str
    timezone: str
    starts: date | None
    ends: date | None
    villages: tuple[Village, ...]
    forms: tuple[Form, ...]
    indicators: tuple[Indicator, ...]
    source: Path | None = None
    schedule: Schedule = Schedule()
    nomination_kinds: tuple[str, ...] = DEFAULT_NOMINATION_KINDS
    min_coverage: Decimal = DEFAULT_MIN_COVERAGE  # in %, for ratios and shares
    corrections_days: int = DEFAULT_CORRECTIONS_DAYS  # after the due day, sent reports
    scoring: Scoring | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def form(self, form_id: str) -> Form:
        for form in self.forms:
            if form.id == form_id:
                return form
        raise KeyError(form_id)

    def village(self, key: str) -> Village | None:
        """The village with this id, or whose name matches ignoring case, diacritics and spaces."""
        for village in self.villages:
            if village.id == key:
                return village
        wanted = _match_key(key)
        if not wanted:
            return None
        for village in self.villages:
            if wanted in (_match_key(village.name), _match_key(village.id)):
                return village
        return None

    def question(self, question_id: str) -> tuple[Form, Question]:
        for form in self.forms:
            for question in form.questions:
                if question.id == question_id:
                    return form, question
        raise KeyError(question_id)

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def form_indicators(self, form_id: str) -> list[Indicator]:
        """The indicators computed from one form's answers (all their questions in it)."""
        asked = {q.id for q in self.form(form_id).questions}
        return [i for i in self.indicators if set(i.questions) <= asked]

    def indicator_questions(self, form_id: str) -> list[str]:
        """The questions of ``form_id`` its indicators read, each once, in form order."""
        used = {q for i in self.form_indicators(form_id) for q in i.questions}
        return [q.id for q in self.form(form_id).questions if q.id in used]

    @property
    def village_forms(self) -> tuple[Form, ...]:
        """The forms each village's head reports on (level village, not baseline forms)."""
        return tuple(f for f in self.forms if f.level == "village" and not f.baseline)

    @property
    def commune_forms(self) -> tuple[Form, ...]:
        """The forms a commune officer reports on for the whole commune (level commune)."""
        return tuple(f for f in self.forms if f.level == "commune")

    @property
    def baseline_forms(self) -> tuple[Form, ...]:
        """The baseline forms: filled once per village by an officer, never due."""
        return tuple(f for f in self.forms if f.baseline)

    def indicator_form(self, indicator: Indicator | str) -> Form:
        """The form an indicator's questions are in (the checker keeps them in one)."""
        if isinstance(indicator, str):
            indicator = self.indicator(indicator)
        return self.question(indicator.questions[0])[0]

    def baseline_questions(self, indicator: Indicator | str) -> tuple[Question, ...]:
        """The baseline-form questions an indicator's per-village baseline is read from
        (``baseline_from``: numerator and denominator for a ratio, else one question);
        empty when the indicator names none."""
        if isinstance(indicator, str):
            indicator = self.indicator(indicator)
        return tuple(self.question(question_id)[1] for question_id in indicator.baseline_from)

    def criterion_target(self, criterion: Criterion) -> Target | None:
        """The target a criterion is scored against: its own, else its indicator's (None
        for a measure)."""
        if criterion.target is not None:
            return criterion.target
        if criterion.indicator is None:
            return None
        return self.indicator(criterion.indicator).target


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    column: int | None = None  # only where a YAML syntax error is

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.column is not None:
            return _("dòng {line}, cột {column}: {message}").format(
                line=self.line, column=self.column, message=self.message
            )
        return _("dòng {line}: {message}").format(line=self.line, message=self.message)


class PlanError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# --------------------------------------------------------------------------- YAML with lines


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers its first line and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its first line and the line of each item."""

    line: int = 0
    item_lines: list[int]


class _Sexagesimal(int):
    """An int YAML 1.1 read in base 60 from ``8:00`` (= 480); ``text`` is what was written."""

    text: str


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Map]:
    data = _Map()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found unhashable key",
                key_node.start_mark,
            )
        line = key_node.start_mark.line + 1
        if key in data:
            loader.duplicate_keys.append((line, str(key)))
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = line


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq()
    data.line = node.start_mark.line + 1
    data.item_lines = []
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=False))
        data.item_lines.append(child.start_mark.line + 1)


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date, or its text when it looks like one but is not (``2024-13-01``)."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int:
    """An int; one written ``8:00`` remembers that text, so it can still be read as a time."""
    value = loader.construct_yaml_int(node)
    text = str(loader.construct_scalar(node))
    if ":" not in text:
        return value
    result = _Sexagesimal(value)
    result.text = text.strip()
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _line(node: Any) -> int | None:
    return getattr(node, "line", None) or None


def _key_line(mapping: Any, key: str) -> int | None:
    lines = getattr(mapping, "key_lines", None)
    if lines and key in lines:
        return int(lines[key])
    return _line(mapping)


def _item_line(seq: Any, index: int) -> int | None:
    lines = getattr(seq, "item_lines", None)
    if lines and index < len(lines):
        return int(lines[index])
    return _line(seq)


# --------------------------------------------------------------------------- values


def _to_decimal(value: Any) -> Decimal | None:
    """A YAML number (int, float via its text, or a string) as a finite Decimal, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, _Sexagesimal):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- checking


@dataclass
class _QuestionDraft:
    """What other questions and indicators need to know of a question, even a broken one."""

    form_id: str
    node: Any
    id: str
    type: str | None  # None when the type itself is wrong: checks that need it are skipped
    unit: str | None
    at_most: str | None

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass
class _FormDraft:
    """What indicators need to know of a form, even a broken one."""

    level: str | None  # None when ``level`` itself is wrong
    baseline: bool | None  # None when ``baseline`` itself is wrong


@dataclass
class _IndicatorDraft:
    """What scoring criteria need to know of an indicator, even a broken one (None: that
    part of it could not be read, and checks needing it are skipped)."""

    kind: str | None
    form_id: str | None
    target: Target | None
    target_ok: bool  # False when its target was written but could not be read


class _Checker:
    def __init__(self, root: Any, source: Path | None) -> None:
        self.root = root
        self.source = source
        self.problems: list[Problem] = []
        self.questions: dict[str, _QuestionDraft] = {}
        self.form_drafts: dict[str, _FormDraft] = {}
        self.indicator_drafts: dict[str, _IndicatorDraft] = {}

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    # ---- generic fields

    def require(self, mapping: Any, keys: tuple[str, ...]) -> None:
        for key in keys:
            if key not in mapping:
                self.add(
                    _line(mapping),
                    _("Thiếu khóa bắt buộc “{key}”.").format(key=key),
                )

    def text(self, mapping: Any, key: str) -> str | None:
        """The non-empty string at ``key``; None when absent, or with a problem when malformed."""
        if key not in mapping:
            return None
        value = mapping[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một chuỗi chữ, không được để trống.").format(key=key),
            )
            return None
        return value.strip()

    def ident(self, mapping: Any, key: str = "id") -> str | None:
        """A ``[a-z0-9_]+`` id at ``key``, or None with a problem."""
        if key not in mapping:
            return None
        value = mapping[key]
        if not isinstance(value, str) or not _ID_RE.fullmatch(value):
            self.add(
                _key_line(mapping, key),
                _(
                    "Mã “{value}” không hợp lệ: chỉ dùng chữ thường không dấu, "
                    "chữ số và dấu gạch dưới (a-z, 0-9, _)."
                ).format(value=_show(value)),
            )
            return None
        return value

    def number(self, mapping: Any, key: str) -> Decimal | None:
        if key not in mapping:
            return None
        value = _to_decimal(mapping[key])
        if value is None:
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một số, đang là “{value}”.").format(
                    key=key, value=_show(mapping[key])
                ),
            )
        return value

    def day(self, mapping: Any, key: str) -> date | None:
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.add(
            _key_line(mapping, key),
            _("Ngày “{key}” không hợp lệ: “{value}” (viết theo dạng 2024-01-01).").format(
                key=key, value=_show(value)
            ),
        )
        return None

    def seq(self, mapping: Any, key: str) -> list[Any] | None:
        """The list at ``key``; None with a problem when it is something else."""
        if key not in mapping:
            return None
        value = mapping[key]
        if not isinstance(value, list):
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một danh sách.").format(key=key),
            )
            return None
        return value

    # ---- the plan

    def run(self) -> Plan | None:
        root = self.root
        if root is None:
            self.add(None, _("Tệp kế hoạch trống."))
            return None
        if not isinstance(root, dict):
            self.add(
                _line(root) or 1,
                _("Kế hoạch phải là một bảng các khóa (plan, title, commune, …)."),
            )
            return None
        self.require(root, REQUIRED_PLAN_KEYS)

        version = root.get("plan")
        if "plan" in root and (isinstance(version, bool) or version != 1):
            self.add(
                _key_line(root, "plan"),
                _("Phiên bản kế hoạch “plan” phải là 1, đang là “{value}”.").format(
                    value=_show(version)
                ),
            )
        title = self.text(root, "title")
        commune = self.text(root, "commune")
        timezone = self.timezone(root)
        starts = self.day(root, "starts")
        ends = self.day(root, "ends")
        if starts is not None and ends is not None and starts > ends:
            self.add(
                _key_line(root, "starts"),
                _("Ngày bắt đầu ({starts}) sau ngày kết thúc ({ends}).").format(
                    starts=starts.isoformat(), ends=ends.isoformat()
                ),
            )
        villages = self.villages(root)
        forms = self.forms(root)
        self.check_at_most()
        indicators = self.indicators(root)
        schedule = self.schedule(root)
        nomination_kinds = self.nomination_kinds(root)
        min_coverage = self.min_coverage(root)
        corrections_days = self.corrections_days(root)
        scoring = self.scoring(root)

        if self.problems:
            return None
        assert title is not None and commune is not None and timezone is not None
        return Plan(
            version=1,
            title=title,
            commune=commune,
            timezone=timezone,
            starts=starts,
            ends=ends,
            villages=villages,
            forms=forms,
            indicators=indicators,
            source=self.source,
            schedule=schedule or Schedule(),
            nomination_kinds=nomination_kinds or DEFAULT_NOMINATION_KINDS,
            min_coverage=DEFAULT_MIN_COVERAGE if min_coverage is None else min_coverage,
            corrections_days=(
                DEFAULT_CORRECTIONS_DAYS if corrections_days is None else corrections_days
            ),
            scoring=scoring,
        )

    def timezone(self, root: Any) -> str | None:
        name = self.text(root, "timezone")
        if name is None:
            return None
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.add(
                _key_line(root, "timezone"),
                _("Múi giờ “{value}” không tồn tại (ví dụ đúng: Asia/Ho_Chi_Minh).").format(
                    value=name
                ),
            )
            return None
        return name

    # ---- villages

    def villages(self, root: Any) -> tuple[Village, ...]:
        items = self.seq(root, "villages")
        if items is None:
            return ()
        if not items:
            self.add(_key_line(root, "villages"), _("Danh sách thôn “villages” đang trống."))
            return ()
        result: list[Village] = []
        by_id: set[str] = set()
        by_name: set[str] = set()
        for index, item in enumerate(items):
            line = _item_line(items, index)
            village = self.village(item, line)
            if village is None:
                continue
            if village.id == COMMUNE_ID:
                self.add(
                    line,
                    _(
                        "Mã thôn “{id}” dành riêng cho số liệu cấp xã; hãy đặt cho thôn "
                        "“{name}” một mã khác."
                    ).format(id=COMMUNE_ID, name=village.name),
                )
                continue
            name_key = _match_key(village.name)
            if name_key in by_name:
                self.add(line, _("Tên thôn “{name}” bị trùng.").format(name=village.name))
                continue
            if village.id in by_id:
                self.add(line, _("Mã thôn “{id}” bị trùng.").format(id=village.id))
                continue
            by_name.add(name_key)
            by_id.add(village.id)
            result.append(village)
        return tuple(result)

    def named_village(self, name: str, village_id: str | None, line: int | None) -> Village | None:
        """A village; without an id, the slug of its name."""
        village_id = village_id or slugify(name)
        if not village_id:
            self.add(
                line,
                _("Không tạo được mã cho thôn “{name}”; hãy ghi rõ id và name.").format(name=name),
            )
            return None
        return Village(village_id, name)

    def village(self, item: Any, line: int | None) -> Village | None:
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str):
            name = item.strip()
            if not name:
                self.add(line, _("Tên thôn không được để trống."))
                return None
            return self.named_village(name, None, line)
        if isinstance(item, dict):
            if "name" not in item:
                self.add(_line(item), _("Thiếu khóa bắt buộc “{key}”.").format(key="name"))
                return None
            given_name = self.text(item, "name")
            if given_name is None:
                return None
            given_id = None
            if "id" in item:
                given_id = self.ident(item)
                if given_id is None:
                    return None
            return self.named_village(given_name, given_id, line)
        self.add(line, _("Mỗi thôn phải là một tên, hoặc một bảng có id và name."))
        return None

    # ---- forms

    def forms(self, root: Any) -> tuple[Form, ...]:
        items = self.seq(root, "forms")
        if items is None:
            return ()
        if not items:
            self.add(_key_line(root, "forms"), _("Kế hoạch chưa có biểu mẫu nào (forms)."))
            return ()
        seen: set[str] = set()
        return self.built(
            items,
            _("Mỗi biểu mẫu phải là một bảng các khóa (id, title, period, …)."),
            lambda item: self.form(item, seen),
        )

    def built(
        self, items: Any, not_a_mapping: str, build: Callable[[Any], _T | None]
    ) -> tuple[_T, ...]:
        """``build`` each mapping of ``items``; anything else is a problem at its line."""
        result: list[_T] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.add(_item_line(items, index), not_a_mapping)
                continue
            made = build(item)
            if made is not None:
                result.append(made)
        return tuple(result)

    def form(self, node: Any, seen: set[str]) -> Form | None:
        baseline = self.flag(node, "baseline")
        # a baseline form has no due day to keep: it is never reminded nor due (and when
        # ``baseline`` cannot be read, its problem is the one to fix first)
        required = FORM_REQUIRED_KEYS
        if baseline is not False:
            required = tuple(key for key in FORM_REQUIRED_KEYS if key != "due")
        self.require(node, required)
        form_id = self.ident(node)
        if form_id is not None:
            if form_id in seen:
                self.add(
                    _key_line(node, "id"),
                    _("Mã biểu mẫu “{id}” bị trùng.").format(id=form_id),
                )
            seen.add(form_id)
        title = self.text(node, "title")
        period = node.get("period")
        if "period" in node and period not in PERIOD_KINDS:
            self.add(
                _key_line(node, "period"),
                _("Kỳ báo cáo “{value}” không hợp lệ; chọn một trong: {choices}.").format(
                    value=_show(period), choices=", ".join(PERIOD_KINDS)
                ),
            )
            period = None
        level = self.form_level(node)
        if baseline:
            self.check_baseline_form(node, level, period)
        if form_id is not None and form_id not in self.form_drafts:
            self.form_drafts[form_id] = _FormDraft(level, baseline)
        due = self.due(node, period)
        if due is None and baseline and "due" not in node:
            due = BASELINE_DUE
        questions = self.questions_of(node, form_id or "")
        if (
            form_id is None
            or title is None
            or period is None
            or due is None
            or level is None
            or baseline is None
        ):
            return None
        return Form(form_id, title, period, due, questions, level=level, baseline=baseline)

    def flag(self, node: Any, key: str) -> bool | None:
        """The true/false at ``key`` (False when absent); None with a problem when it is
        something else."""
        if key not in node:
            return False
        value = node[key]
        if not isinstance(value, bool):
            self.add(
                _key_line(node, key),
                _("“{key}” phải là true hoặc false, đang là “{value}”.").format(
                    key=key, value=_show(value)
                ),
            )
            return None
        return value

    def form_level(self, node: Any) -> str | None:
        """Who fills the form: ``village`` (the default) or ``commune``; None with a problem."""
        if "level" not in node:
            return "village"
        level = node["level"]
        if level not in FORM_LEVELS:
            self.add(
                _key_line(node, "level"),
                _(
                    "Cấp biểu mẫu “{value}” không hợp lệ; chọn village (mỗi thôn một báo cáo) "
                    "hoặc commune (một báo cáo của cả xã)."
                ).format(value=_show(level)),
            )
            return None
        return str(level)

    def check_baseline_form(self, node: Any, level: str | None, period: str | None) -> None:
        """A baseline form gives each village's figures once: level village, period year."""
        if level == "commune":
            self.add(
                _key_line(node, "level"),
                _(
                    "Biểu mẫu làm mốc (baseline: true) ghi số liệu mốc của từng thôn, nên "
                    "phải là cấp village, không phải commune."
                ),
            )
        if period is not None and period != "year":
            self.add(
                _key_line(node, "period"),
                _(
                    "Biểu mẫu làm mốc (baseline: true) chỉ nhập một lần cho mỗi thôn, nên kỳ "
                    "báo cáo phải là year, đang là “{value}”."
                ).format(value=period),
            )

    def due(self, node: Any, period: str | None) -> int | None:
        if "due" not in node:
            return None
        due = node["due"]
        if isinstance(due, bool) or not isinstance(due, int) or due < 1:
            self.add(
                _key_line(node, "due"),
                _("Hạn nộp “due” phải là một số nguyên từ 1 trở lên, đang là “{value}”.").format(
                    value=_show(due)
                ),
            )
            return None
        if period is not None and due > MAX_DUE[period]:
            self.add(
                _key_line(node, "due"),
                _("Hạn nộp “due” = {value} vượt quá kỳ {period} (tối đa {max}).").format(
                    value=due, period=period, max=MAX_DUE[period]
                ),
            )
            return None
        return due

    # ---- questions

    def questions_of(self, form: Any, form_id: str) -> tuple[Question, ...]:
        items = self.seq(form, "questions")
        if items is None:
            return ()
        if not items:
            self.add(
                _key_line(form, "questions"),
                _("Biểu mẫu “{id}” chưa có câu hỏi nào.").format(id=form_id),
            )
            return ()
        return self.built(
            items,
            _("Mỗi câu hỏi phải là một bảng các khóa (id, ask, type, …)."),
            lambda item: self.question(item, form_id),
        )

    def question(self, node: Any, form_id: str) -> Question | None:
        self.require(node, ("id", "ask", "type"))
        for key in node:
            if key not in QUESTION_KEYS:
                self.add(
                    _key_line(node, key),
                    _(
                        "Khóa “{key}” không dùng được trong câu hỏi; các khóa hợp lệ: {keys}."
                    ).format(key=_show(key), keys=", ".join(QUESTION_KEYS)),
                )
        question_id = self.ident(node)
        duplicate = False
        if question_id is not None and question_id in self.questions:
            self.add(
                _key_line(node, "id"),
                _(
                    "Mã câu hỏi “{id}” bị trùng (mã câu hỏi phải khác nhau trong toàn kế hoạch)."
                ).format(id=question_id),
            )
            duplicate = True
        ask = self.text(node, "ask")
        kind = node.get("type")
        if "type" in node and kind not in QUESTION_TYPES:
            self.add(
                _key_line(node, "type"),
                _("Loại câu hỏi “{value}” không hợp lệ; chọn một trong: {choices}.").format(
                    value=_show(kind), choices=", ".join(QUESTION_TYPES)
                ),
            )
            kind = None
        label = self.text(node, "label")
        unit = self.text(node, "unit")
        low = self.number(node, "min")
        high = self.number(node, "max")
        choices = self.choices(node, kind)
        optional = self.optional(node)
        at_most = node.get("at_most")
        if at_most is not None and not isinstance(at_most, str):
            self.add(
                _key_line(node, "at_most"),
                _("“at_most” phải là mã của một câu hỏi khác."),
            )
            at_most = None

        if kind is not None and kind not in NUMERIC_TYPES:
            for key in ("min", "max", "at_most"):
                if key in node:
                    self.add(
                        _key_line(node, key),
                        _("“{key}” chỉ dùng cho câu hỏi dạng số (integer, decimal).").format(
                            key=key
                        ),
                    )
            at_most = None
        if low is not None and high is not None and low > high:
            self.add(
                _key_line(node, "min"),
                _("“min” ({min}) lớn hơn “max” ({max}).").format(min=low, max=high),
            )
        if question_id is not None and not duplicate:
            self.questions[question_id] = _QuestionDraft(
                form_id, node, question_id, kind, unit, at_most
            )
        if question_id is None or ask is None or kind is None:
            return None
        return Question(
            id=question_id,
            ask=ask,
            type=kind,
            label=label or short_label(ask),
            unit=unit,
            min=low,
            max=high,
            at_most=at_most,
            choices=choices,
            optional=optional,
        )

    def choices(self, node: Any, kind: str | None) -> tuple[str, ...]:
        if "choices" not in node:
            if kind == "choice":
                self.add(
                    _line(node),
                    _("Câu hỏi loại choice cần “choices” với ít nhất 2 lựa chọn."),
                )
            return ()
        if kind is not None and kind != "choice":
            self.add(
                _key_line(node, "choices"),
                _("Chỉ câu hỏi loại choice mới có “choices” (câu này là loại {type}).").format(
                    type=kind
                ),
            )
            return ()
        items = self.seq(node, "choices")
        if items is None:
            return ()
        result: list[str] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            line = _item_line(items, index)
            if isinstance(item, int | float) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.add(
                    line,
                    _("Lựa chọn “{value}” không hợp lệ: mỗi lựa chọn là một dòng chữ.").format(
                        value=_show(item)
                    ),
                )
                continue
            text = item.strip()
            if _match_key(text) in seen:
                self.add(line, _("Lựa chọn “{value}” bị trùng.").format(value=text))
                continue
            seen.add(_match_key(text))
            result.append(text)
        if kind == "choice" and len(items) < 2:
            self.add(
                _key_line(node, "choices"),
                _("Câu hỏi loại choice cần ít nhất 2 lựa chọn."),
            )
        return tuple(result)

    def optional(self, node: Any) -> bool:
        if "optional" not in node:
            return False
        value = node["optional"]
        if not isinstance(value, bool):
            self.add(
                _key_line(node, "optional"),
                _("“optional” phải là true hoặc false, đang là “{value}”.").format(
                    value=_show(value)
                ),
            )
            return False
        return value

    def check_at_most(self) -> None:
        for draft in self.questions.values():
            target_id = draft.at_most
            if target_id is None:
                continue
            line = _key_line(draft.node, "at_most")
            if target_id == draft.id:
                self.add(line, _("“at_most” không được trỏ tới chính câu hỏi này."))
                continue
            target = self.questions.get(target_id)
            if target is None:
                self.add(
                    line,
                    _("“at_most” trỏ tới câu hỏi “{id}” không có trong kế hoạch.").format(
                        id=target_id
                    ),
                )
            elif target.form_id != draft.form_id:
                self.add(
                    line,
                    _(
                        "“at_most” trỏ tới câu hỏi “{id}” của biểu mẫu khác ({form}); "
                        "chỉ so được với câu hỏi cùng biểu mẫu."
                    ).format(id=target_id, form=target.form_id),
                )
            elif target.type is not None and not target.numeric:
                self.add(
                    line,
                    _("“at_most” trỏ tới câu hỏi “{id}” không phải dạng số (loại {type}).").format(
                        id=target_id, type=target.type
                    ),
                )

    # ---- indicators

    def indicators(self, root: Any) -> tuple[Indicator, ...]:
        if root.get("indicators") is None:
            return ()
        items = self.seq(root, "indicators")
        if items is None:
            return ()
        seen: set[str] = set()
        return self.built(
            items,
            _("Mỗi chỉ tiêu phải là một bảng các khóa (id, title, target, …)."),
            lambda item: self.indicator(item, seen),
        )

    def indicator(self, node: Any, seen: set[str]) -> Indicator | None:
        self.require(node, ("id", "title"))
        indicator_id = self.ident(node)
        if indicator_id is not None:
            if indicator_id in seen:
                self.add(
                    _key_line(node, "id"),
                    _("Mã chỉ tiêu “{id}” bị trùng.").format(id=indicator_id),
                )
            seen.add(indicator_id)
        title = self.text(node, "title")
        kinds = [kind for kind in INDICATOR_KINDS if kind in node]
        questions: tuple[str, ...] | None = None
        if len(kinds) != 1:
            self.add(
                _line(node),
                _("Chỉ tiêu cần đúng một trong các khóa: ratio, share_yes, sum."),
            )
        else:
            questions = self.indicator_questions(node, kinds[0])
        form_id = self.questions[questions[0]].form_id if questions else None
        form = self.form_drafts.get(form_id) if form_id is not None else None
        if questions is not None and form is not None and form.baseline:
            self.add(
                _key_line(node, kinds[0]),
                _(
                    "Chỉ tiêu không được tính từ câu hỏi của biểu mẫu làm mốc “{form}”: biểu "
                    "mẫu làm mốc chỉ cung cấp số liệu mốc cho chỉ tiêu khác (qua “baseline_from”)."
                ).format(form=form_id),
            )
            questions = None
        target = self.target(node)
        if indicator_id is not None and indicator_id not in self.indicator_drafts:
            self.indicator_drafts[indicator_id] = _IndicatorDraft(
                kind=kinds[0] if questions is not None else None,
                form_id=form_id if questions is not None else None,
                target=target,
                target_ok=target is not None or node.get("target") is None,
            )
        unit = self.text(node, "unit")
        baseline = self.percent(node, "baseline")
        if baseline is not None and kinds == ["share_yes"] and not 0 <= baseline <= 100:
            self.add(
                _key_line(node, "baseline"),
                _(
                    "Số liệu mốc “baseline” của chỉ tiêu dạng share_yes là một tỷ lệ phần trăm "
                    "từ 0 đến 100, đang là “{value}”."
                ).format(value=_show(node["baseline"])),
            )
            baseline = None
        baseline_year = self.year(node, "baseline_year")
        baseline_from: tuple[str, ...] | None = ()
        if "baseline_from" in node and questions is not None:
            level = form.level if form is not None else None
            baseline_from = self.baseline_from(node, kinds[0], level)
        if indicator_id is None or title is None or questions is None or baseline_from is None:
            return None
        kind = kinds[0]
        if kind in ("ratio", "share_yes"):
            unit = "%"
        elif unit is None:
            unit = self.questions[questions[0]].unit
        return Indicator(
            indicator_id,
            title,
            kind,
            questions,
            target,
            unit,
            baseline=baseline,
            baseline_year=baseline_year,
            baseline_from=baseline_from,
        )

    def percent(self, mapping: Any, key: str) -> Decimal | None:
        """The number at ``key``, also written with a per cent sign (``4.5%``, ``"80 %"``);
        None when absent, or with a problem when it is not a number."""
        if key not in mapping:
            return None
        raw = mapping[key]
        text = (
            raw.strip().removesuffix("%").strip().replace(",", ".") if isinstance(raw, str) else raw
        )
        value = None if isinstance(text, bool) else _to_decimal(text)
        if value is None:
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một số, đang là “{value}”.").format(key=key, value=_show(raw)),
            )
        return value

    def year(self, mapping: Any, key: str) -> int | None:
        """A year (``2023``) at ``key``; None when absent, or with a problem when it is not one."""
        if key not in mapping:
            return None
        value = mapping[key]
        low, high = BASELINE_YEARS
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một năm, ví dụ 2023, đang là “{value}”.").format(
                    key=key, value=_show(value)
                ),
            )
            return None
        return int(value)

    def baseline_from(self, node: Any, kind: str, level: str | None) -> tuple[str, ...] | None:
        """The baseline-form questions of an indicator (``baseline_from``), shaped like its
        own: ``[numerator, denominator]`` for a ratio, one question otherwise, all in one
        baseline form and of the types the indicator needs; None with a problem."""
        value = node["baseline_from"]
        line = _key_line(node, "baseline_from")
        if level == "commune":
            self.add(
                line,
                _(
                    "Chỉ tiêu của biểu mẫu cấp xã không lấy số liệu mốc từng thôn "
                    "(“baseline_from”); hãy ghi số liệu mốc của xã ở “baseline”."
                ),
            )
            return None
        if kind == "ratio":
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(isinstance(v, str) for v in value)
            ):
                self.add(
                    line,
                    _(
                        "“baseline_from” của chỉ tiêu dạng ratio phải là danh sách đúng hai mã "
                        "câu hỏi của biểu mẫu làm mốc: [tử số, mẫu số]."
                    ),
                )
                return None
            items = [(value[0], _item_line(value, 0)), (value[1], _item_line(value, 1))]
        else:
            if isinstance(value, list) and len(value) == 1:
                value, line = value[0], _item_line(value, 0)
            if not isinstance(value, str):
                self.add(
                    line,
                    _("“baseline_from” phải là mã của một câu hỏi trong biểu mẫu làm mốc."),
                )
                return None
            items = [(value, line)]
        found: list[_QuestionDraft] = []
        for question_id, item_line in items:
            draft = self.baseline_question(question_id, kind, item_line)
            if draft is None:
                return None
            found.append(draft)
        forms = {draft.form_id for draft in found}
        if len(forms) > 1:
            self.add(
                line,
                _(
                    "Tử số “{num}” (biểu mẫu {num_form}) và mẫu số “{den}” (biểu mẫu "
                    "{den_form}) của “baseline_from” phải thuộc cùng một biểu mẫu làm mốc."
                ).format(
                    num=found[0].id,
                    num_form=found[0].form_id,
                    den=found[1].id,
                    den_form=found[1].form_id,
                ),
            )
            return None
        return tuple(draft.id for draft in found)

    def baseline_question(
        self, question_id: str, kind: str, line: int | None
    ) -> _QuestionDraft | None:
        """One question of ``baseline_from``: in a baseline form, of the type ``kind`` needs."""
        draft = self.questions.get(question_id)
        if draft is None:
            self.add(
                line,
                _("“baseline_from” trỏ tới câu hỏi “{id}” không có trong kế hoạch.").format(
                    id=question_id
                ),
            )
            return None
        form = self.form_drafts.get(draft.form_id)
        if form is not None and form.baseline is False:
            self.add(
                line,
                _(
                    "“baseline_from” trỏ tới câu hỏi “{id}” của biểu mẫu “{form}”, không phải "
                    "biểu mẫu làm mốc (một biểu mẫu có baseline: true)."
                ).format(id=question_id, form=draft.form_id),
            )
            return None
        if draft.type is None:
            return draft
        if kind == "share_yes" and draft.type != "yes_no":
            self.add(
                line,
                _(
                    "“baseline_from” của chỉ tiêu dạng share_yes cần câu hỏi loại yes_no, "
                    "nhưng “{id}” là loại {type}."
                ).format(id=question_id, type=draft.type),
            )
            return None
        if kind in ("ratio", "sum") and not draft.numeric:
            self.add(
                line,
                _(
                    "“baseline_from” của chỉ tiêu dạng {key} cần câu hỏi dạng số, nhưng "
                    "“{id}” là loại {type}."
                ).format(key=kind, id=question_id, type=draft.type),
            )
            return None
        return draft

    def indicator_questions(self, node: Any, kind: str) -> tuple[str, ...] | None:
        value = node[kind]
        line = _key_line(node, kind)
        if kind == "ratio":
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(isinstance(v, str) for v in value)
            ):
                self.add(
                    line,
                    _("“ratio” phải là danh sách đúng hai mã câu hỏi: [tử số, mẫu số]."),
                )
                return None
            found = [
                self.indicator_question(value[i], kind, _item_line(value, i)) for i in range(2)
            ]
            if found[0] is None or found[1] is None:
                return None
            if found[0].form_id != found[1].form_id:
                self.add(
                    line,
                    _(
                        "Tử số “{num}” (biểu mẫu {num_form}) và mẫu số “{den}” "
                        "(biểu mẫu {den_form}) phải thuộc cùng một biểu mẫu."
                    ).format(
                        num=value[0],
                        num_form=found[0].form_id,
                        den=value[1],
                        den_form=found[1].form_id,
                    ),
                )
                return None
            return (value[0], value[1])
        if not isinstance(value, str):
            self.add(
                line,
                _("“{key}” phải là mã của một câu hỏi.").format(key=kind),
            )
            return None
        if self.indicator_question(value, kind, line) is None:
            return None
        return (value,)

    def indicator_question(
        self, question_id: str, kind: str, line: int | None
    ) -> _QuestionDraft | None:
        draft = self.questions.get(question_id)
        if draft is None:
            self.add(
                line,
                _("Chỉ tiêu trỏ tới câu hỏi “{id}” không có trong kế hoạch.").format(
                    id=question_id
                ),
            )
            return None
        if draft.type is None:
            return draft
        if kind == "share_yes" and draft.type != "yes_no":
            self.add(
                line,
                _("“share_yes” cần câu hỏi loại yes_no, nhưng “{id}” là loại {type}.").format(
                    id=question_id, type=draft.type
                ),
            )
            return None
        if kind in ("ratio", "sum") and not draft.numeric:
            self.add(
                line,
                _("“{key}” cần câu hỏi dạng số, nhưng “{id}” là loại {type}.").format(
                    key=kind, id=question_id, type=draft.type
                ),
            )
            return None
        return draft

    def target(self, node: Any) -> Target | None:
        """The target at ``target`` (a level, or a change: ``decrease >= 1``); None when
        absent, or with a problem when it cannot be read."""
        if node.get("target") is None:
            return None
        value = node["target"]
        try:
            target = Target.parse(value)
        except ValueError:
            self.add(
                _key_line(node, "target"),
                _(
                    "Mục tiêu “{value}” không hợp lệ; viết dạng “>= 100”, “> 35”, “<= 23” "
                    "hoặc chỉ một số (nghĩa là >=); mục tiêu về mức thay đổi so với số liệu "
                    "mốc viết dạng “giảm >= 1” hoặc “tăng >= 2” (decrease, increase)."
                ).format(value=_show(value)),
            )
            return None
        if target.direction is not None and target.op == "==":
            self.add(
                _key_line(node, "target"),
                _(
                    "Mục tiêu về mức thay đổi “{value}” không dùng được “==”; hãy viết dạng "
                    "“giảm >= 1”, “tăng > 2” hoặc “giảm <= 5”."
                ).format(value=_show(value)),
            )
            return None
        return target

    # ---- scoring

    def scoring(self, root: Any) -> Scoring | None:
        """The ``scoring`` section (criteria and grades); None when absent or with a problem."""
        if root.get("scoring") is None:
            return None
        node = root["scoring"]
        line = _key_line(root, "scoring")
        if not isinstance(node, dict):
            self.add(
                line,
                _("Mục chấm điểm “scoring” phải là một bảng các khóa ({keys}).").format(
                    keys=", ".join(SCORING_KEYS)
                ),
            )
            return None
        before = len(self.problems)
        self.unknown_keys(
            node,
            SCORING_KEYS,
            _(
                "Khóa “{key}” không dùng được trong mục chấm điểm “scoring”; "
                "các khóa hợp lệ: {keys}."
            ),
        )
        criteria = self.criteria(node, line)
        grades = self.grades(node, line)
        if len(self.problems) != before:
            return None
        return Scoring(criteria, grades)

    def unknown_keys(self, node: Any, keys: tuple[str, ...], message: str) -> None:
        """A problem for each key of ``node`` not in ``keys`` (``message`` has {key}, {keys})."""
        for key in node:
            if key not in keys:
                self.add(
                    _key_line(node, key),
                    message.format(key=_show(key), keys=", ".join(keys)),
                )

    def criteria(self, node: Any, line: int | None) -> tuple[Criterion, ...]:
        items = self.seq(node, "criteria") if node.get("criteria") is not None else []
        if items is None:
            return ()
        if not items:
            self.add(
                _key_line(node, "criteria") if "criteria" in node else line,
                _("Mục chấm điểm “scoring” cần ít nhất một tiêu chí (criteria)."),
            )
            return ()
        seen: set[str] = set()
        return self.built(
            items,
            _("Mỗi tiêu chí chấm điểm phải là một bảng các khóa (id, title, points, …)."),
            lambda item: self.criterion(item, seen),
        )

    def criterion(self, node: Any, seen: set[str]) -> Criterion | None:
        self.require(node, ("id", "title", "points"))
        self.unknown_keys(
            node,
            CRITERION_KEYS,
            _("Khóa “{key}” không dùng được trong tiêu chí chấm điểm; các khóa hợp lệ: {keys}."),
        )
        before = len(self.problems)
        criterion_id = self.ident(node)
        if criterion_id is not None:
            if criterion_id in seen:
                self.add(
                    _key_line(node, "id"),
                    _("Mã tiêu chí “{id}” bị trùng.").format(id=criterion_id),
                )
            seen.add(criterion_id)
        title = self.text(node, "title")
        points = self.positive(node, "points")
        zero_at = self.number(node, "zero_at")
        per_item = self.positive(node, "per_item")
        sources = [key for key in ("indicator", "measure") if key in node]
        indicator_id = measure = None
        target: Target | None = None
        if len(sources) != 1:
            self.add(
                _line(node),
                _(
                    "Tiêu chí cần đúng một trong hai khóa: indicator (chấm theo một chỉ tiêu) "
                    "hoặc measure (chấm theo {measures})."
                ).format(measures=", ".join(SCORING_MEASURES)),
            )
        elif sources == ["indicator"]:
            indicator_id = self.scored_indicator(node)
            target = self.target(node)
            if indicator_id is not None and (target is not None or node.get("target") is None):
                self.check_criterion_target(node, criterion_id, indicator_id, target, zero_at)
        else:
            measure = node["measure"]
            if measure not in SCORING_MEASURES:
                self.add(
                    _key_line(node, "measure"),
                    _("Cách đo “{value}” không hợp lệ; chọn một trong: {choices}.").format(
                        value=_show(measure), choices=", ".join(SCORING_MEASURES)
                    ),
                )
                measure = None
            for key in ("target", "zero_at"):
                if key in node:
                    self.add(
                        _key_line(node, key),
                        _("“{key}” chỉ dùng cho tiêu chí chấm theo chỉ tiêu (indicator).").format(
                            key=key
                        ),
                    )
        if measure == "good_deeds" and "per_item" not in node:
            self.add(
                _line(node),
                _(
                    "Tiêu chí good_deeds cần “per_item”: số điểm cho mỗi gương người tốt, "
                    "việc tốt được thường trực công nhận."
                ),
            )
        if "per_item" in node and (indicator_id is not None or measure not in (None, "good_deeds")):
            self.add(
                _key_line(node, "per_item"),
                _("“per_item” chỉ dùng cho tiêu chí good_deeds."),
            )
        if len(self.problems) != before:
            return None
        if criterion_id is None or title is None or points is None:
            return None
        return Criterion(
            id=criterion_id,
            title=title,
            points=points,
            indicator=indicator_id,
            measure=measure,
            target=target,
            zero_at=zero_at,
            per_item=per_item,
        )

    def positive(self, mapping: Any, key: str) -> Decimal | None:
        """A number above 0 at ``key``; None when absent, or with a problem."""
        if key not in mapping:
            return None
        value = _to_decimal(mapping[key])
        if value is None or value <= 0:
            self.add(
                _key_line(mapping, key),
                _("“{key}” phải là một số lớn hơn 0, đang là “{value}”.").format(
                    key=key, value=_show(mapping[key])
                ),
            )
            return None
        return value

    def scored_indicator(self, node: Any) -> str | None:
        """The indicator a criterion reads: an existing ratio or share_yes indicator of a
        village-level form; None with a problem (or when that indicator is broken)."""
        value = node["indicator"]
        line = _key_line(node, "indicator")
        draft = self.indicator_drafts.get(value) if isinstance(value, str) else None
        if draft is None:
            self.add(
                line,
                _("Tiêu chí trỏ tới chỉ tiêu “{id}” không có trong kế hoạch.").format(
                    id=_show(value)
                ),
            )
            return None
        if draft.kind is None or draft.form_id is None:
            return None  # the indicator's own problem is reported already
        if draft.kind == "sum":
            self.add(
                line,
                _(
                    "Chỉ tiêu “{id}” là dạng sum (cộng số của cả xã), không chấm được cho từng "
                    "thôn; tiêu chí chỉ dùng chỉ tiêu dạng ratio hoặc share_yes."
                ).format(id=value),
            )
            return None
        form = self.form_drafts.get(draft.form_id)
        if form is not None and form.level == "commune":
            self.add(
                line,
                _(
                    "Chỉ tiêu “{id}” thuộc biểu mẫu cấp xã “{form}”, không chấm được cho từng "
                    "thôn; tiêu chí chỉ dùng chỉ tiêu của biểu mẫu cấp thôn."
                ).format(id=value, form=draft.form_id),
            )
            return None
        if form is None or form.level is None:
            return None
        return str(value)

    def check_criterion_target(
        self,
        node: Any,
        criterion_id: str | None,
        indicator_id: str,
        own: Target | None,
        zero_at: Decimal | None,
    ) -> None:
        """A criterion needs a target (its own or its indicator's), not ``==``, with
        ``zero_at`` (when given) on the side of the target that scores nothing."""
        draft = self.indicator_drafts[indicator_id]
        if own is None and not draft.target_ok:
            return  # the indicator's target could not be read: reported already
        target = own if own is not None else draft.target
        line = _key_line(node, "target") if own is not None else _key_line(node, "indicator")
        if target is None:
            self.add(
                line,
                _(
                    "Tiêu chí “{id}” chưa có mục tiêu: chỉ tiêu “{indicator}” không ghi "
                    "“target”; hãy ghi “target” cho tiêu chí hoặc cho chỉ tiêu."
                ).format(id=criterion_id or "", indicator=indicator_id),
            )
            return
        if target.op == "==":
            self.add(
                line,
                _(
                    "Tiêu chí không chấm điểm được theo mục tiêu “{target}”: mục tiêu “==” "
                    "không có mức đạt một phần; hãy ghi cho tiêu chí một “target” dạng >=, >, "
                    "<= hoặc <."
                ).format(target=target),
            )
            return
        if zero_at is None:
            return
        shown = {"zero": format(zero_at, "f"), "target": str(target)}
        if target.op in (">=", ">") and not zero_at < target.value:
            self.add(
                _key_line(node, "zero_at"),
                _(
                    "“zero_at” ({zero}) là mức được 0 điểm, nên với mục tiêu “{target}” phải "
                    "nhỏ hơn {value}."
                ).format(value=format(target.value, "f"), **shown),
            )
        if target.op in ("<=", "<") and not zero_at > target.value:
            self.add(
                _key_line(node, "zero_at"),
                _(
                    "“zero_at” ({zero}) là mức được 0 điểm, nên với mục tiêu “{target}” phải "
                    "lớn hơn {value}."
                ).format(value=format(target.value, "f"), **shown),
            )

    def grades(self, node: Any, line: int | None) -> tuple[Grade, ...]:
        items = self.seq(node, "grades") if node.get("grades") is not None else []
        if items is None:
            return ()
        if not items:
            self.add(
                _key_line(node, "grades") if "grades" in node else line,
                _(
                    "Mục chấm điểm “scoring” cần ít nhất một mức xếp loại (grades); mức cuối "
                    "cùng không có điều kiện."
                ),
            )
            return ()
        seen: dict[str, str] = {}
        result: list[Grade] = []
        above: Grade | None = None  # the nearest grade above with an ``at_least``
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.add(
                    _item_line(items, index),
                    _("Mỗi mức xếp loại phải là một bảng các khóa (name, at_least, …)."),
                )
                continue
            grade = self.grade(item, seen)
            if grade is None:
                continue
            if grade.at_least is not None:
                if above is not None and above.at_least is not None:
                    if grade.at_least > above.at_least:
                        self.add(
                            _key_line(item, "at_least"),
                            _(
                                "“at_least” của mức “{name}” ({value}) cao hơn của mức trên "
                                "“{above}” ({above_value}); các mức xếp từ cao xuống thấp."
                            ).format(
                                name=grade.name,
                                value=format(grade.at_least, "f"),
                                above=above.name,
                                above_value=format(above.at_least, "f"),
                            ),
                        )
                above = grade
            result.append(grade)
        last = items[-1]
        if isinstance(last, dict):
            conditions = [key for key in GRADE_KEYS[1:] if key in last]
            for key in conditions:
                self.add(
                    _key_line(last, key),
                    _(
                        "Mức xếp loại cuối cùng “{name}” không được có điều kiện “{key}”: đó "
                        "là mức của thôn không đạt mức nào ở trên."
                    ).format(name=_show(last.get("name")), key=key),
                )
        return tuple(result)

    def grade(self, node: Any, seen: dict[str, str]) -> Grade | None:
        self.require(node, ("name",))
        self.unknown_keys(
            node,
            GRADE_KEYS,
            _("Khóa “{key}” không dùng được trong mức xếp loại; các khóa hợp lệ: {keys}."),
        )
        before = len(self.problems)
        name = self.text(node, "name")
        if name is not None:
            name = unicodedata.normalize("NFC", name)
            key = _normalize(name)
            if key in seen:
                self.add(
                    _key_line(node, "name"),
                    _("Mức xếp loại “{name}” bị trùng với “{other}”.").format(
                        name=name, other=seen[key]
                    ),
                )
            else:
                seen[key] = name
        shares: dict[str, Decimal | None] = {}
        for key in GRADE_KEYS[1:]:
            value = self.percent(node, key)
            if value is not None and not 0 <= value <= 100:
                self.add(
                    _key_line(node, key),
                    _("“{key}” là một tỷ lệ phần trăm từ 0 đến 100, đang là “{value}”.").format(
                        key=key, value=_show(node[key])
                    ),
                )
                value = None
            shares[key] = value
        if name is None or len(self.problems) != before:
            return None
        return Grade(name, shares["at_least"], shares["each_at_least"], shares["at_most_share"])

    # ---- schedule

    def schedule(self, root: Any) -> Schedule | None:
        """The ``schedule`` section, every key defaulting; None when it has a problem."""
        node = root.get("schedule")
        if node is None:
            return Schedule()
        if not isinstance(node, dict):
            self.add(
                _key_line(root, "schedule"),
                _("Lịch gửi “schedule” phải là một bảng các khóa ({keys}).").format(
                    keys=", ".join(SCHEDULE_KEYS)
                ),
            )
            return None
        before = len(self.problems)
        for key in node:
            if key not in SCHEDULE_KEYS:
                self.add(
                    _key_line(node, key),
                    _(
                        "Khóa “{key}” không dùng được trong lịch gửi “schedule”; "
                        "các khóa hợp lệ: {keys}."
                    ).format(key=_show(key), keys=", ".join(SCHEDULE_KEYS)),
                )
        default = Schedule()
        reminders = self.reminders(node)
        reminder_time = self.clock_time(node, "reminder_time")
        digest = self.digest(node)
        quiet_hours = self.quiet_hours(node)
        schedule = Schedule(
            reminders=default.reminders if reminders is None else reminders,
            reminder_time=default.reminder_time if reminder_time is None else reminder_time,
            digest_weekday=default.digest_weekday if digest is None else digest[0],
            digest_time=default.digest_time if digest is None else digest[1],
            quiet_hours=default.quiet_hours if quiet_hours is None else quiet_hours[0],
        )
        # what could not be read is left out of the check (it is reported already)
        readable = {
            "reminder_time": "reminder_time" not in node or reminder_time is not None,
            "digest": "digest" not in node or digest is not None,
        }
        if "quiet_hours" not in node or quiet_hours is not None:
            self.check_quiet(node, schedule, [key for key, ok in readable.items() if ok])
        return schedule if len(self.problems) == before else None

    def reminders(self, node: Any) -> tuple[int, ...] | None:
        """The reminder days, sorted; None when absent or with a problem."""
        items = self.seq(node, "reminders")
        if items is None:
            return None
        result: set[int] = set()
        ok = True
        for index, item in enumerate(items):
            line = _item_line(items, index)
            if (
                isinstance(item, bool | _Sexagesimal)
                or not isinstance(item, int)
                or abs(item) > MAX_REMINDER_OFFSET
            ):
                self.add(
                    line,
                    _(
                        "Ngày nhắc “{value}” không hợp lệ: mỗi ngày nhắc là một số nguyên "
                        "từ -{max} đến {max}, tính từ hạn nộp (-3 là 3 ngày trước hạn, "
                        "0 là đúng ngày hạn, 1 là một ngày sau hạn)."
                    ).format(value=_show(item), max=MAX_REMINDER_OFFSET),
                )
                ok = False
            elif item in result:
                self.add(line, _("Ngày nhắc “{value}” bị trùng.").format(value=item))
                ok = False
            else:
                result.add(item)
        return tuple(sorted(result)) if ok else None

    def clock_time(self, node: Any, key: str) -> time | None:
        """The ``HH:MM`` time at ``key``; None when absent, or with a problem when malformed."""
        if key not in node:
            return None
        value = node[key]
        parsed = _parse_time(value)
        if parsed is None:
            self.add(
                _key_line(node, key),
                _(
                    "Giờ “{key}” không hợp lệ: “{value}” (viết theo dạng 24 giờ, ví dụ 08:00)."
                ).format(key=key, value=_show(value)),
            )
        return parsed

    def digest(self, node: Any) -> tuple[int | None, time] | None:
        """(weekday, time) of the weekly digest, (None, …) when turned off; None when absent
        or with a problem."""
        if "digest" not in node:
            return None
        value = node["digest"]
        if value is None or value is False:
            return (None, Schedule().digest_time)
        line = _key_line(node, "digest")
        words = value.split() if isinstance(value, str) else []
        day_text, time_text = " ".join(words[:-1]), " ".join(words[-1:])
        if not day_text:
            self.add(
                line,
                _(
                    "Lịch tổng hợp “digest” không hợp lệ: “{value}” (viết dạng "
                    "“monday 07:30” hoặc “thứ hai 07:30”; ghi false nếu không gửi "
                    "bản tổng hợp hằng tuần)."
                ).format(value=_show(value)),
            )
            return None
        weekday = _weekday(day_text)
        moment = _parse_time(time_text)
        if weekday is None:
            self.add(
                line,
                _(
                    "“{value}” trong “digest” không phải là một ngày trong tuần; ghi ví dụ "
                    "monday, thứ hai, thu 2 hoặc chủ nhật."
                ).format(value=day_text),
            )
        if moment is None:
            self.add(
                line,
                _(
                    "Giờ “{key}” không hợp lệ: “{value}” (viết theo dạng 24 giờ, ví dụ 08:00)."
                ).format(key="digest", value=time_text),
            )
        if weekday is None or moment is None:
            return None
        return (weekday, moment)

    def quiet_hours(self, node: Any) -> tuple[QuietHours | None] | None:
        """(the quiet hours,), (None,) when turned off; None when absent or with a problem."""
        if "quiet_hours" not in node:
            return None
        value = node["quiet_hours"]
        if value is None or value is False:
            return (None,)
        line = _key_line(node, "quiet_hours")
        match = _QUIET_RE.fullmatch(value) if isinstance(value, str) else None
        start = _parse_time(match.group(1)) if match else None
        end = _parse_time(match.group(2)) if match else None
        if start is None or end is None:
            self.add(
                line,
                _(
                    "Giờ yên lặng “quiet_hours” không hợp lệ: “{value}” (viết dạng "
                    "“21:00-07:00”; ghi false nếu không cần giờ yên lặng)."
                ).format(value=_show(value)),
            )
            return None
        if start == end:
            self.add(
                line,
                _(
                    "Giờ yên lặng “quiet_hours” bắt đầu và kết thúc cùng lúc ({time}); "
                    "hãy ghi hai giờ khác nhau, hoặc false nếu không cần giờ yên lặng."
                ).format(time=f"{start:%H:%M}"),
            )
            return None
        return (QuietHours(start, end),)

    def check_quiet(self, node: Any, schedule: Schedule, keys: list[str]) -> None:
        """The reminder and digest times (of ``keys``) must not fall within the quiet hours."""
        quiet = schedule.quiet_hours
        if quiet is None:
            return
        moments = {"reminder_time": schedule.reminder_time}
        if schedule.digest_weekday is not None:
            moments["digest"] = schedule.digest_time
        for key, moment in moments.items():
            if key not in keys or not quiet.contains(moment):
                continue
            self.add(
                _key_line(node, key if key in node else "quiet_hours"),
                _(
                    "Giờ “{key}” ({time}) rơi vào giờ yên lặng {quiet}: tin sẽ chỉ được gửi "
                    "khi hết giờ yên lặng. Hãy dời sang một giờ ngoài khoảng này."
                ).format(key=key, time=f"{moment:%H:%M}", quiet=quiet),
            )

    # ---- nomination kinds

    def corrections_days(self, root: Any) -> int | None:
        """``corrections_days``: a whole number of days from 0 (no corrections once the due
        day is over) to ``MAX_CORRECTIONS_DAYS``; None when absent or with a problem."""
        if "corrections_days" not in root:
            return None
        value = root["corrections_days"]
        if isinstance(value, bool) or not isinstance(value, int):
            value = None
        if value is None or not 0 <= value <= MAX_CORRECTIONS_DAYS:
            self.add(
                _key_line(root, "corrections_days"),
                _(
                    "“corrections_days” (số ngày sau hạn nộp còn được sửa báo cáo đã gửi) "
                    "phải là một số nguyên từ 0 đến {max}, đang là “{value}”."
                ).format(max=MAX_CORRECTIONS_DAYS, value=_show(root["corrections_days"])),
            )
            return None
        return value

    def min_coverage(self, root: Any) -> Decimal | None:
        """``min_coverage``: a percentage above 0 and at most 100 (``80``, ``"80%"``); None
        when absent or with a problem."""
        if "min_coverage" not in root:
            return None
        raw = root["min_coverage"]
        text = (
            raw.strip().removesuffix("%").strip().replace(",", ".") if isinstance(raw, str) else raw
        )
        value = None if isinstance(text, bool) else _to_decimal(text)
        if value is None or not Decimal(0) < value <= Decimal(100):
            self.add(
                _key_line(root, "min_coverage"),
                _(
                    "“min_coverage” phải là một tỷ lệ phần trăm lớn hơn 0 và không quá 100 "
                    "(ví dụ 80), đang là “{value}”."
                ).format(value=_show(raw)),
            )
            return None
        return value

    def nomination_kinds(self, root: Any) -> tuple[str, ...] | None:
        """The kinds of good examples, in plan order; None when absent or with a problem."""
        items = self.seq(root, "nomination_kinds")
        if items is None:
            return None
        line = _key_line(root, "nomination_kinds")
        if not items:
            self.add(
                line,
                _(
                    "Danh sách loại gương “nomination_kinds” đang trống; hãy ghi ít nhất "
                    "một loại, hoặc bỏ khóa này để dùng các loại mặc định."
                ),
            )
            return None
        before = len(self.problems)
        if len(items) > MAX_NOMINATION_KINDS:
            self.add(
                line,
                _(
                    "Có {count} loại gương trong “nomination_kinds”, nhiều nhất được {max} "
                    "loại (mỗi loại là một nút bấm)."
                ).format(count=len(items), max=MAX_NOMINATION_KINDS),
            )
        result: list[str] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(items):
            item_line = _item_line(items, index)
            if not isinstance(item, str):
                self.add(
                    item_line,
                    _("Loại gương “{value}” phải là một chuỗi chữ.").format(value=_show(item)),
                )
                continue
            name = unicodedata.normalize("NFC", item.strip())
            if not name:
                self.add(item_line, _("Tên loại gương không được để trống."))
                continue
            if len(name) > MAX_NOMINATION_KIND_LENGTH:
                self.add(
                    item_line,
                    _(
                        "Tên loại gương “{name}” dài quá: nhiều nhất {max} ký tự "
                        "(để vừa một nút bấm)."
                    ).format(name=name, max=MAX_NOMINATION_KIND_LENGTH),
                )
                continue
            key = _normalize(name)
            if key in seen:
                self.add(
                    item_line,
                    _("Loại gương “{name}” bị trùng với “{other}”.").format(
                        name=name, other=seen[key]
                    ),
                )
                continue
            seen[key] = name
            result.append(name)
        return tuple(result) if len(self.problems) == before else None


def _parse_time(value: Any) -> time | None:
    """``08:00`` or ``8:00`` (24-hour clock), also when YAML read ``8:00`` as base 60."""
    if isinstance(value, _Sexagesimal):
        value = value.text
    if not isinstance(value, str):
        return None
    match = _TIME_RE.fullmatch(value.strip())
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


# --------------------------------------------------------------------------- entry points


def check_plan_text(text: str, source: Path | None = None) -> tuple[Plan | None, list[Problem]]:
    """Check a plan's YAML text: the plan when it has no problems, else None and every problem."""
    try:
        loader = _LineLoader(text)  # raises already for a control character in the text
        try:
            root = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        line, column, message = syntax_problem(error, text)
        return None, [Problem(line, message, column)]
    except (ValueError, TypeError, RecursionError) as error:
        return None, [Problem(None, _("Lỗi cú pháp YAML: {detail}.").format(detail=error))]

    checker = _Checker(root, source)
    for line, key in loader.duplicate_keys:
        checker.add(line, _("Khóa “{key}” bị lặp lại.").format(key=key))
    plan = checker.run()
    problems = sorted(checker.problems, key=lambda p: p.line or 0)
    return (plan if not problems else None), problems


def check_plan(path: str | Path) -> tuple[Plan | None, list[Problem]]:
    """Check the plan file at ``path``; never raises for a bad or missing plan."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = _("Không đọc được tệp kế hoạch {path}: {error}").format(path=source, error=error)
        return None, [Problem(None, message)]
    return check_plan_text(text, source)


def load_plan(path: str | Path = DEFAULT_PLAN_PATH) -> Plan:
    """The plan at ``path``; raises ``PlanError`` listing every problem."""
    plan, problems = check_plan(path)
    if plan is None:
        raise PlanError(problems)
    return plan
