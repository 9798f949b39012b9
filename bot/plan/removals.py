"""What a plan drops that stored data still refers to.

The database knows villages, forms and questions by their ids only: a village's reports,
its people, its nominations, its score claims and its open invites; a form's reports; a
question's answers.
A plan that no longer names such an id cuts that data off, so ``thidua run`` refuses it
(unless told ``--accept-removals``) and ``thidua plan check --database`` reports it.
Renaming keeps the id (``{id: thon_3, name: Tân Lập}``); dropping a village, or renaming
one given by its name alone (whose id comes from its name), does not.

``find_removals`` lists what is gone, each with the line where the plan the bot last ran
with (the snapshot stored at each start) had it; ``removals_text`` says it in the
person's language. Open drafts are not counted: a draft is fitted to the edited plan when
its person comes back, and told what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.i18n import _, format_number
from bot.plan.model import COMMUNE_ID, Plan, Village, _item_line, _LineLoader, slugify

VILLAGE = "village"
FORM = "form"
QUESTION = "question"

# What refers to a village, a form or a question, in the order they are listed.
USE_KINDS = ("reports", "answers", "people", "nominations", "claims", "invites")


@dataclass(frozen=True)
class Place:
    """Where the snapshot had a village, a form or a question, and what it called it."""

    line: int | None
    name: str | None = None
    index: int | None = None  # a village's position in the list


@dataclass(frozen=True)
class Places:
    """The villages, forms and questions of a plan's text, by id."""

    villages: dict[str, Place] = field(default_factory=dict)
    forms: dict[str, Place] = field(default_factory=dict)
    questions: dict[tuple[str, str], Place] = field(default_factory=dict)


@dataclass(frozen=True)
class InUse:
    """The ids stored data refers to, with how many of each thing refer to them."""

    villages: Mapping[str, Mapping[str, int]]
    forms: Mapping[str, int]
    questions: Mapping[tuple[str, str], int]


@dataclass(frozen=True)
class Removal:
    """A village, form or question with stored data that the plan no longer has."""

    kind: str  # VILLAGE, FORM or QUESTION
    id: str
    uses: tuple[tuple[str, int], ...]  # (one of USE_KINDS, how many), non-zero only
    form_id: str | None = None  # a question's form
    line: int | None = None  # its line in the snapshot, when one was stored and had it
    name: str | None = None  # its name, title or label in the snapshot
    renamed_to: Village | None = None  # the new village at the same place in the list

    @property
    def key(self) -> str:
        """What names the removal once accepted: ``village:thon_3``, ``question:thang:x``."""
        if self.kind == QUESTION:
            return f"{QUESTION}:{self.form_id}:{self.id}"
        return f"{self.kind}:{self.id}"


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None


def snapshot_places(text: str) -> Places | None:
    """Where each village, form and question of a plan's YAML text is (the line of its list
    item), by the id the plan gives it or derives from a village's name; None when the
    text cannot be read as YAML. Items that are not what a plan holds are skipped."""
    try:
        loader = _LineLoader(text)
        try:
            root = loader.get_single_data()
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    places = Places()
    if not isinstance(root, dict):
        return places
    villages = root.get("villages")
    if isinstance(villages, list):
        for index, item in enumerate(villages):
            if isinstance(item, dict):
                name = _text(item.get("name"))
                given = item.get("id")
                village_id = given if isinstance(given, str) else slugify(name or "")
            else:
                name = _text(item)
                village_id = slugify(name or "")
            if village_id and village_id not in places.villages:
                places.villages[village_id] = Place(_item_line(villages, index), name, index)
    forms = root.get("forms")
    if not isinstance(forms, list):
        return places
    for index, form in enumerate(forms):
        if not isinstance(form, dict) or not isinstance(form.get("id"), str):
            continue
        form_id = form["id"]
        places.forms.setdefault(form_id, Place(_item_line(forms, index), _text(form.get("title"))))
        questions = form.get("questions")
        if not isinstance(questions, list):
            continue
        for number, question in enumerate(questions):
            if not isinstance(question, dict) or not isinstance(question.get("id"), str):
                continue
            name = _text(question.get("label")) or _text(question.get("ask"))
            places.questions.setdefault(
                (form_id, question["id"]), Place(_item_line(questions, number), name)
            )
    return places


def _uses(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((kind, counts[kind]) for kind in USE_KINDS if counts.get(kind))


def find_removals(plan: Plan, in_use: InUse, snapshot: str | None) -> list[Removal]:
    """Every village, form and question that stored data refers to and ``plan`` does not
    have: villages first, then forms, then the questions of forms the plan still has (a
    form's questions go with it), each in the order the snapshot had them."""
    places = snapshot_places(snapshot) if snapshot is not None else None
    places = places or Places()
    # the commune's own reports are kept under COMMUNE_ID, which is never a removed village
    villages = {village.id for village in plan.villages} | {COMMUNE_ID}
    removals: list[Removal] = []
    for village_id, counts in in_use.villages.items():
        if village_id in villages or not _uses(counts):
            continue
        place = places.villages.get(village_id, Place(None))
        renamed_to = None
        if place.index is not None and place.index < len(plan.villages):
            candidate = plan.villages[place.index]
            if candidate.id not in places.villages:
                renamed_to = candidate
        removals.append(
            Removal(VILLAGE, village_id, _uses(counts), None, place.line, place.name, renamed_to)
        )
    forms = {form.id: {q.id for q in form.questions} for form in plan.forms}
    for form_id, count in in_use.forms.items():
        if form_id in forms or not count:
            continue
        place = places.forms.get(form_id, Place(None))
        removals.append(Removal(FORM, form_id, (("reports", count),), None, place.line, place.name))
    for (form_id, question_id), count in in_use.questions.items():
        if form_id not in forms or question_id in forms[form_id] or not count:
            continue
        place = places.questions.get((form_id, question_id), Place(None))
        removals.append(
            Removal(QUESTION, question_id, (("answers", count),), form_id, place.line, place.name)
        )
    kinds = (VILLAGE, FORM, QUESTION)
    removals.sort(key=lambda r: (kinds.index(r.kind), r.line is None, r.line or 0, r.key))
    return removals


# --------------------------------------------------------------------------- words


def _use_text(kind: str, count: int) -> str:
    number = format_number(count)
    if kind == "reports":
        return _("báo cáo {count}").format(count=number)
    if kind == "answers":
        return _("câu trả lời {count}").format(count=number)
    if kind == "people":
        return _("người dùng {count}").format(count=number)
    if kind == "nominations":
        return _("đề cử {count}").format(count=number)
    if kind == "claims":
        return _("đề nghị chấm lại điểm {count}").format(count=number)
    return _("mã mời còn hạn {count}").format(count=number)


def removal_name(removal: Removal) -> str:
    """``thôn “Thôn 3” (mã thon_3)``, or by its id alone when its name is not known."""
    if removal.kind == VILLAGE:
        if removal.name:
            return _("thôn “{name}” (mã {id})").format(name=removal.name, id=removal.id)
        return _("thôn mã {id}").format(id=removal.id)
    if removal.kind == FORM:
        if removal.name:
            return _("biểu mẫu “{name}” (mã {id})").format(name=removal.name, id=removal.id)
        return _("biểu mẫu mã {id}").format(id=removal.id)
    if removal.name:
        return _("câu hỏi “{name}” (mã {id}) của biểu mẫu {form}").format(
            name=removal.name, id=removal.id, form=removal.form_id
        )
    return _("câu hỏi mã {id} của biểu mẫu {form}").format(id=removal.id, form=removal.form_id)


def removal_line(removal: Removal) -> str:
    """One removal on one line: what, where the last run's plan had it, what data it has,
    and for a village that seems renamed, how to keep its data."""
    text = "- " + removal_name(removal)
    if removal.line is not None:
        text += ", " + _("dòng {line} trong kế hoạch lần chạy trước").format(line=removal.line)
    uses = ", ".join(_use_text(kind, count) for kind, count in removal.uses)
    text += "; " + _("dữ liệu: {uses}").format(uses=uses)
    if removal.renamed_to is not None:
        text += ". " + _(
            "Nếu chỉ là đổi tên thành “{name}”, giữ mã cũ: {{id: {id}, name: {name}}}"
        ).format(name=removal.renamed_to.name, id=removal.id)
    return text


def removals_text(
    removals: list[Removal], plan_file: Path, snapshot_known: bool, for_run: bool
) -> str:
    """The whole message: a heading, one line per removal, how to rename without losing
    data, and what to do next (``for_run``: how to start anyway; else that ``thidua run``
    will refuse the plan)."""
    lines = [
        _("Kế hoạch {file} bỏ mất {count} mục vẫn còn dữ liệu trong cơ sở dữ liệu:").format(
            file=plan_file, count=format_number(len(removals))
        )
    ]
    lines += [removal_line(removal) for removal in removals]
    if not snapshot_known:
        lines.append(
            _(
                "(Cơ sở dữ liệu chưa lưu kế hoạch của lần chạy trước, nên không chỉ ra được "
                "các mục này từng ở dòng nào.)"
            )
        )
    new_name = _("Tên mới")
    example = f"- {{id: thon_3, name: {new_name}}}"
    lines.append(
        _("Dữ liệu đi theo mã, không theo tên: đổi tên thì giữ nguyên mã, ví dụ {example}.").format(
            example=example
        )
    )
    if for_run:
        lines.append(
            _(
                "Bot chưa chạy. Nếu thật sự muốn bỏ các mục này, chạy lại với "
                "--accept-removals: dữ liệu cũ vẫn còn trong cơ sở dữ liệu nhưng không còn "
                "hiện trong tổng hợp và bảng tính."
            )
        )
    else:
        lines.append(
            _("thidua run sẽ không chạy với kế hoạch này, trừ khi được gọi với --accept-removals.")
        )
    return "\n".join(lines)
