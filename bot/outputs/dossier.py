"""The council's dossier as Word documents: a village's achievement report (*báo cáo thành
tích*) and the minutes of the council's meeting (*biên bản họp xét thi đua*).

Pure rendering with python-docx: the board and each village's record (its reports due,
sent and on time; its good deeds accepted, with their stages) in, ``.docx`` bytes out.
The documents follow the administrative layout of Nghị định 30/2020/NĐ-CP: A4 portrait,
margins 20 mm top and bottom, 30 mm left, 15 mm right, Times New Roman (set for Latin,
East Asian and complex scripts alike, so Word and LibreOffice draw every Vietnamese mark
with it), the issuing body and the national motto side by side at the top, the title
centred and bold, the body justified. What only people can write (the village's
situation, its solutions, its proposals; the meeting's time, place, attendance, votes and
signatures) is left as headed blanks (``……``).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from bot.domain import Nomination, NominationEvent
from bot.i18n import DAY, _, format_date
from bot.nominations.rules import status_name
from bot.outputs.scoreboard import (
    evidence_text,
    grade_text,
    points_text,
    status_text,
    target_text,
    tied_ids,
    ties_text,
)
from bot.plan.model import Plan
from bot.plan.periods import Period
from bot.scoring.board import Board, VillageScore

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297  # A4
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}  # Nghị định 30/2020/NĐ-CP
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]
BLANK = "…" * 30  # a line left for a person to write on (the width of the text, 14 pt)
LABEL_BLANK = "…" * 22  # the rest of a line after a short label
SHORT_BLANK = "……"
# The stage moves a good deed's history shows (sending and review talk are left out).
STAGE_ACTIONS = ("accepted", "advanced", "moved_back", "closed")


# -- the data a village's report is made of -----------------------------------------------


@dataclass(frozen=True)
class ReportDue:
    """One report the village owed in the window: the form, its period and due day, and
    when its first version was sent (None: not sent by the scoring date)."""

    form_title: str
    period: Period
    due: date
    sent: datetime | None
    on_time: bool


@dataclass(frozen=True)
class GoodDeed:
    """A nomination of the village accepted by the secretariat in the window, with its
    history (stage moves)."""

    nomination: Nomination
    accepted_at: datetime
    events: tuple[NominationEvent, ...]


@dataclass(frozen=True)
class VillageRecord:
    """What a village's achievement report is pre-filled with, besides its scores."""

    village_id: str
    reports: tuple[ReportDue, ...] = ()
    good_deeds: tuple[GoodDeed, ...] = ()

    @property
    def sent(self) -> int:
        return sum(1 for r in self.reports if r.sent is not None)

    @property
    def on_time(self) -> int:
        return sum(1 for r in self.reports if r.on_time)


# -- file names ---------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """``text`` in lower-case ASCII letters, digits, ``_`` and ``-`` (``Thôn Đồi`` →
    ``thon-doi``): a file name any system keeps as it is."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-") or "x"


def report_file_name(village_id: str, year: int) -> str:
    """``bao-cao-thanh-tich-thon_1-2026.docx``."""
    return f"bao-cao-thanh-tich-{_ascii(village_id)}-{year}.docx"


def minutes_file_name(year: int) -> str:
    return f"bien-ban-hop-xet-{year}.docx"


def workbook_file_name(year: int) -> str:
    return f"bang-diem-{year}.xlsx"


# -- the page and its parts ---------------------------------------------------------------


def _set_fonts(rpr: Any, size_pt: int | None = None) -> None:
    """Times New Roman for every script (Latin, East Asian, complex) in a run properties
    element, theme fonts removed so that nothing overrides it; Vietnamese as the language."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), FONT)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            element = rpr.find(qn(tag))
            if element is None:
                element = OxmlElement(tag)
                rpr.append(element)
            element.set(qn("w:val"), str(size_pt * 2))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")


def new_document(title: str) -> Any:
    """An empty A4 document with the decree's margins and Times New Roman 14 pt, body
    paragraphs justified."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _set_fonts(rpr, BODY_PT)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_PT)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    doc.core_properties.title = title
    doc.core_properties.language = "vi-VN"
    return doc


def _paragraph(
    container: Any,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    align: Any = None,
    size: int | None = None,
    after: int | None = None,
) -> Any:
    paragraph = container.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold = bold
        run.italic = italic
        if size is not None:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    return paragraph


def _cell_paragraph(cell: Any, text: str, **kwargs: Any) -> Any:
    """Write into a table cell: its first (empty) paragraph, then new ones."""
    first = cell.paragraphs[0]
    if not first.text and not first.runs:
        first._element.getparent().remove(first._element)
    return _paragraph(cell, text, **kwargs)


def _no_borders(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _widths(table: Any, widths_mm: Sequence[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(width)


def commune_place(plan: Plan) -> str:
    """The place in a document's date line: the commune's name without ``Xã`` (``Nam
    Dong``)."""
    name = plan.commune.strip()
    for prefix in ("Xã ", "xã ", "XÃ "):
        if name.startswith(prefix):
            return name[len(prefix) :].strip()
    return name


def commune_body(plan: Plan) -> str:
    """The issuing body's first line: ``UBND XÃ NAM DONG``."""
    return _("UBND XÃ {name}").format(name=commune_place(plan).upper())


def date_line(plan: Plan) -> str:
    """``Nam Dong, ngày … tháng … năm …``, left for the signatory to date."""
    return _("{place}, ngày {blank} tháng {blank} năm {blank}").format(
        place=commune_place(plan), blank=SHORT_BLANK
    )


def _header(doc: Any, plan: Plan, body: str, unit: str) -> None:
    """The two-column heading: the issuing body on the left (its superior in capitals,
    itself in bold capitals), the Quốc hiệu and tiêu ngữ on the right, then the place and
    date line in italics."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (65, TEXT_WIDTH_MM - 65))
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    _cell_paragraph(left, body, align=center, size=13, after=0)
    _cell_paragraph(left, unit, bold=True, align=center, size=13, after=0)
    _cell_paragraph(left, "________", align=center, size=13, after=0)
    _cell_paragraph(
        right, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), bold=True, align=center, size=13, after=0
    )
    _cell_paragraph(
        right, _("Độc lập - Tự do - Hạnh phúc"), bold=True, align=center, size=14, after=0
    )
    _cell_paragraph(right, "_______________", align=center, size=13, after=0)
    _paragraph(doc, date_line(plan), italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, after=12)


def _title(doc: Any, title: str, *subtitles: str) -> None:
    _paragraph(doc, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    for line in subtitles:
        _paragraph(doc, line, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(doc, "", after=6)


def _heading(doc: Any, text: str) -> None:
    paragraph = _paragraph(doc, text, bold=True, after=6)
    paragraph.paragraph_format.keep_with_next = True


def _blank(doc: Any, heading: str | None, hint: str | None = None, lines: int = 4) -> None:
    """A headed blank: the heading, an optional hint in italics, dotted lines."""
    if heading:
        _heading(doc, heading)
    if hint:
        _paragraph(doc, hint, italic=True)
    for _line in range(lines):
        _paragraph(doc, BLANK, after=0)
    _paragraph(doc, "", after=0)


def _table(
    doc: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    right_aligned: Sequence[int] = (),
) -> Any:
    """A bordered table in 13 pt with a bold, centred header row repeated on every page."""
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths_mm)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _cell_paragraph(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=TABLE_PT)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for row, values in zip(table.rows[1:], rows, strict=True):
        for index, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.RIGHT if index in right_aligned else WD_ALIGN_PARAGRAPH.LEFT
            _cell_paragraph(cell, text, align=align, size=TABLE_PT, after=0)
    _paragraph(doc, "", after=0)
    return table


def _signatures(doc: Any, left: tuple[str, str], right: tuple[str, str]) -> None:
    """Two signature blocks side by side: a bold title, its note in italics, room to sign."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (TEXT_WIDTH_MM / 2, TEXT_WIDTH_MM / 2))
    center = WD_ALIGN_PARAGRAPH.CENTER
    for cell, (title, note) in zip(table.rows[0].cells, (left, right), strict=True):
        _cell_paragraph(cell, title, bold=True, align=center, after=0)
        _cell_paragraph(cell, note, italic=True, align=center, after=0)
        for _line in range(4):
            _cell_paragraph(cell, "", after=0)
        _cell_paragraph(cell, SHORT_BLANK * 6, align=center, after=0)


def _save(doc: Any) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _day(moment: datetime, plan: Plan) -> str:
    return format_date(moment.astimezone(plan.tz).date(), DAY)


def _rank_text(board: Board, score: VillageScore) -> str:
    return _("{rank}/{count} thôn").format(rank=score.rank, count=len(board.villages))


# -- the achievement report ---------------------------------------------------------------


def achievement_report(plan: Plan, board: Board, record: VillageRecord) -> bytes:
    """The village's achievement report, pre-filled from the data: each criterion's target,
    what the village achieved and the data behind it, its points; the reporting record (the
    reports due, sent, on time); the good deeds accepted, with their stages; its total,
    rank and proposed grade. Blanks are left for the village's situation, its solutions and
    experience, and its proposals, and for the signatures."""
    score = board.village(record.village_id)
    village = score.village
    doc = new_document(
        _("Báo cáo thành tích năm {year} – {village}").format(year=board.year, village=village.name)
    )
    _header(doc, plan, commune_body(plan), village.name.upper())
    if score.grade:
        proposal = _("Đề nghị công nhận xếp loại “{grade}” trong phong trào thi đua năm {year}")
        proposal = proposal.format(grade=score.grade, year=board.year)
    else:
        proposal = _("Đề nghị xét khen thưởng trong phong trào thi đua năm {year}").format(
            year=board.year
        )
    _title(doc, _("BÁO CÁO THÀNH TÍCH"), proposal)
    _paragraph(
        doc,
        _("Tên tập thể đề nghị: {village}, {commune}.").format(
            village=village.name, commune=plan.commune
        ),
    )

    _blank(
        doc,
        _("I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH"),
        _("(Địa bàn, dân số, số hộ; thuận lợi, khó khăn trong năm; tổ chức của thôn.)"),
    )

    _heading(doc, _("II. THÀNH TÍCH ĐẠT ĐƯỢC"))
    _heading(doc, _("1. Kết quả thực hiện các tiêu chí thi đua"))
    _paragraph(
        doc,
        _(
            "Số liệu lấy từ các báo cáo thôn đã gửi, điểm tính theo cách chấm trong kế hoạch "
            "thi đua của xã ({status})."
        ).format(status=status_text(plan, board)),
    )
    rows = [
        [
            str(number),
            item.criterion.title,
            target_text(plan, item.criterion),
            evidence_text(plan, item),
            f"{points_text(item.points)}/{points_text(item.criterion.points)}",
        ]
        for number, item in enumerate(score.criteria, start=1)
    ]
    rows.append(
        ["", _("Tổng cộng"), "", "", f"{points_text(score.total)}/{points_text(board.max)}"]
    )
    _table(
        doc,
        [_("STT"), _("Tiêu chí"), _("Chỉ tiêu"), _("Kết quả đạt được (số liệu)"), _("Điểm")],
        rows,
        (12, 38, 35, 55, 25),
        right_aligned=(4,),
    )
    tied = tied_ids(board)
    summary = _(
        "Tổng điểm: {total}/{max} điểm; xếp hạng {rank}; xếp loại đề nghị: {grade}."
    ).format(
        total=points_text(score.total),
        max=points_text(board.max),
        rank=_rank_text(board, score),
        grade=grade_text(score, tied),
    )
    _paragraph(doc, summary, bold=True)
    if score.missing:
        _paragraph(
            doc,
            _("Tiêu chí thiếu số liệu (0 điểm): {criteria}.").format(
                criteria=", ".join(c.criterion.title for c in score.criteria if c.missing)
            ),
        )
    if village.id in tied:
        _paragraph(
            doc,
            _(
                "Thôn bằng điểm với thôn khác tại ngưỡng giới hạn số thôn của xếp loại; "
                "Hội đồng xem xét, quyết định."
            ),
        )

    _heading(doc, _("2. Công tác thông tin, báo cáo"))
    due = len(record.reports)
    if due:
        _paragraph(
            doc,
            _(
                "Trong năm (đến hết ngày {as_of}), thôn có {due} báo cáo đến hạn, đã gửi "
                "{sent}, trong đó {on_time} báo cáo đúng hạn."
            ).format(
                as_of=format_date(board.as_of, DAY),
                due=due,
                sent=record.sent,
                on_time=record.on_time,
            ),
        )
        _table(
            doc,
            [_("STT"), _("Báo cáo"), _("Kỳ"), _("Hạn nộp"), _("Ngày gửi"), _("Đánh giá")],
            [
                [
                    str(number),
                    report.form_title,
                    report.period.label(),
                    format_date(report.due, DAY),
                    _day(report.sent, plan) if report.sent else _("chưa gửi"),
                    _("đúng hạn")
                    if report.on_time
                    else (_("gửi muộn") if report.sent else _("thiếu")),
                ]
                for number, report in enumerate(record.reports, start=1)
            ],
            (12, 45, 38, 25, 25, 20),
        )
    else:
        _paragraph(
            doc,
            _("Đến hết ngày {as_of}, thôn chưa có báo cáo nào đến hạn.").format(
                as_of=format_date(board.as_of, DAY)
            ),
        )

    _heading(doc, _("3. Phong trào “Người tốt, việc tốt”"))
    deeds = record.good_deeds
    if deeds:
        _paragraph(
            doc,
            _(
                "Có {count} gương người tốt, việc tốt của thôn được thường trực Hội đồng ghi "
                "nhận trong năm:"
            ).format(count=len(deeds)),
        )
        _table(
            doc,
            [_("STT"), _("Số hồ sơ"), _("Người, tập thể"), _("Việc làm"), _("Các giai đoạn")],
            [
                [
                    str(number),
                    deed.nomination.number,
                    deed.nomination.nominee,
                    f"{deed.nomination.deed} ({deed.nomination.kind})",
                    _stages_text(plan, deed),
                ]
                for number, deed in enumerate(deeds, start=1)
            ],
            (12, 28, 35, 55, 35),
        )
    else:
        _paragraph(
            doc, _("Trong năm chưa có gương người tốt, việc tốt nào của thôn được ghi nhận.")
        )

    _blank(
        doc,
        _("4. Giải pháp, kinh nghiệm"),
        _("(Những cách làm hay, sáng tạo của thôn để đạt các kết quả trên.)"),
    )
    _blank(doc, _("III. KIẾN NGHỊ, ĐỀ XUẤT"), None, lines=3)
    _paragraph(
        doc,
        _(
            "{village} đề nghị Hội đồng Thi đua – Khen thưởng xã xem xét, công nhận kết quả trên./."
        ).format(village=village.name),
    )
    _signatures(
        doc,
        (_("XÁC NHẬN CỦA UBND XÃ"), _("(Ký, ghi rõ họ tên, đóng dấu)")),
        (_("TRƯỞNG THÔN"), _("(Ký, ghi rõ họ tên)")),
    )
    return _save(doc)


def _stages_text(plan: Plan, deed: GoodDeed) -> str:
    """``Phát hiện 02/03/2026; Bồi dưỡng 10/04/2026``: the stage moves with their day."""
    moves = [
        f"{status_name(event.status)} {_day(event.at, plan)}"
        for event in deed.events
        if event.action in STAGE_ACTIONS
    ]
    return "; ".join(moves) or status_name(deed.nomination.status)


# -- the council's minutes ----------------------------------------------------------------


def council_minutes(plan: Plan, board: Board, workbook_name: str | None = None) -> bytes:
    """The minutes of the council's meeting, pre-filled with the board (every village's
    rank, total and proposed grade, the criteria without data), the count per grade and the
    ties flagged at a grade's cap; blanks for time, place, chair, secretary, attendance,
    the discussion, the votes per village, the conclusion, the public posting and the
    signatures."""
    doc = new_document(_("Biên bản họp xét thi đua năm {year}").format(year=board.year))
    _header(doc, plan, commune_body(plan), _("HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG"))
    _title(
        doc,
        _("BIÊN BẢN"),
        _("Họp xét kết quả phong trào thi đua năm {year} của các thôn").format(year=board.year),
    )
    _paragraph(
        doc,
        _(
            "Hôm nay, vào lúc {blank} giờ {blank} ngày {blank} tháng {blank} năm {blank}, tại "
            "{blank}, Hội đồng Thi đua – Khen thưởng {commune} họp xét kết quả phong trào thi "
            "đua năm {year} của {count} thôn."
        ).format(
            blank=SHORT_BLANK, commune=plan.commune, year=board.year, count=len(board.villages)
        ),
    )
    _heading(doc, _("I. THÀNH PHẦN THAM DỰ"))
    for line in (
        _("Chủ trì: {blank}").format(blank=LABEL_BLANK),
        _("Thư ký: {blank}").format(blank=LABEL_BLANK),
        _("Thành viên Hội đồng có mặt: {blank}/{blank} thành viên, gồm:").format(blank=SHORT_BLANK),
        BLANK,
        BLANK,
        _("Vắng mặt: {blank}; lý do: {blank}").format(blank=SHORT_BLANK * 5),
        _("Khách mời: {blank}").format(blank=LABEL_BLANK),
    ):
        _paragraph(doc, line, after=0)
    _paragraph(doc, "", after=0)

    _heading(doc, _("II. NỘI DUNG"))
    _heading(doc, _("1. Thường trực Hội đồng báo cáo kết quả chấm điểm các thôn"))
    _paragraph(
        doc,
        _("Bảng điểm {status}; thang điểm tối đa {max} điểm.").format(
            status=status_text(plan, board), max=points_text(board.max)
        ),
    )
    if workbook_name:
        _paragraph(
            doc,
            _("Điểm từng tiêu chí của mỗi thôn và số liệu tính điểm: xem bảng điểm kèm theo "
              "({file}).").format(file=workbook_name),
        )  # fmt: skip
    tied = tied_ids(board)
    rows = []
    for score in board.ranked():
        notes = []
        if score.missing:
            notes.append(
                _("thiếu số liệu: {criteria}").format(
                    criteria=", ".join(c.criterion.title for c in score.criteria if c.missing)
                )
            )
        if score.village.id in tied:
            notes.append(_("bằng điểm tại ngưỡng"))
        rows.append(
            [
                str(score.rank),
                score.village.name,
                points_text(score.total),
                score.grade or "—",
                "; ".join(notes),
            ]
        )
    _table(
        doc,
        [_("Hạng"), _("Thôn"), _("Tổng điểm"), _("Xếp loại đề nghị"), _("Ghi chú")],
        rows,
        (16, 40, 24, 35, 50),
        right_aligned=(0, 2),
    )
    counts = _grade_counts(plan, board)
    if counts:
        _paragraph(
            doc,
            _("Tổng hợp xếp loại đề nghị: {counts}.").format(
                counts="; ".join(
                    _("{grade}: {count} thôn").format(grade=grade, count=count)
                    for grade, count in counts
                )
            ),
        )

    _heading(doc, _("2. Các trường hợp bằng điểm tại ngưỡng xếp loại"))
    ties = ties_text(board)
    if ties:
        for line in ties:
            _paragraph(doc, line)
        _paragraph(doc, _("Ý kiến của Hội đồng: {blank}").format(blank=LABEL_BLANK))
    else:
        _paragraph(doc, _("Không có thôn nào bằng điểm tại ngưỡng xếp loại."))

    _blank(doc, _("3. Ý kiến thảo luận của thành viên Hội đồng"), None, lines=4)

    _heading(doc, _("4. Kết quả biểu quyết"))
    _paragraph(
        doc,
        _("Số thành viên biểu quyết: {blank}/{blank}.").format(blank=SHORT_BLANK),
    )
    _table(
        doc,
        [
            _("STT"),
            _("Thôn"),
            _("Xếp loại đề nghị"),
            _("Đồng ý"),
            _("Không đồng ý"),
            _("Hội đồng thống nhất"),
        ],
        [
            [
                str(number),
                score.village.name,
                grade_text(score, tied) if score.grade else "—",
                f"{SHORT_BLANK}/{SHORT_BLANK}",
                f"{SHORT_BLANK}/{SHORT_BLANK}",
                SHORT_BLANK * 3,
            ]
            for number, score in enumerate(board.ranked(), start=1)
        ],
        (12, 36, 34, 24, 24, 35),
    )

    _heading(doc, _("III. KẾT LUẬN"))
    _paragraph(doc, BLANK, after=0)
    _paragraph(doc, BLANK, after=0)
    _paragraph(
        doc,
        _(
            "Kết quả xét được niêm yết công khai tại {blank} trong 10 ngày, từ ngày {blank} "
            "đến ngày {blank}, trước khi trình Chủ tịch UBND xã quyết định."
        ).format(blank=SHORT_BLANK * 2),
    )
    _paragraph(
        doc,
        _(
            "Biên bản kết thúc lúc {blank} giờ {blank} cùng ngày, đã được đọc lại cho các "
            "thành viên dự họp nghe và thống nhất./."
        ).format(blank=SHORT_BLANK),
    )
    _signatures(
        doc,
        (_("THƯ KÝ"), _("(Ký, ghi rõ họ tên)")),
        (_("CHỦ TỊCH HỘI ĐỒNG"), _("(Ký, ghi rõ họ tên)")),
    )
    return _save(doc)


def _grade_counts(plan: Plan, board: Board) -> list[tuple[str, int]]:
    """How many villages each grade has, in the plan's order of grades."""
    if plan.scoring is None:
        names: list[str] = []
    else:
        names = [g.name for g in plan.scoring.grades]
    for score in board.villages:
        if score.grade and score.grade not in names:
            names.append(score.grade)
    return [(name, sum(1 for v in board.villages if v.grade == name)) for name in names]


# -- the dossier --------------------------------------------------------------------------


def proposed_villages(plan: Plan, board: Board) -> list[str]:
    """The villages proposed for the plan's top grade, by rank."""
    if plan.scoring is None or not plan.scoring.grades:
        return []
    top = plan.scoring.grades[0].name
    return [v.village.id for v in board.ranked() if v.grade == top]


def dossier_files(
    plan: Plan, board: Board, records: Mapping[str, VillageRecord], workbook: bytes
) -> dict[str, bytes]:
    """Every file of the dossier by its name: the scoreboard workbook, one achievement
    report per village of ``records`` (in their order), the council's minutes."""
    files = {workbook_file_name(board.year): workbook}
    for village_id, record in records.items():
        files[report_file_name(village_id, board.year)] = achievement_report(plan, board, record)
    files[minutes_file_name(board.year)] = council_minutes(
        plan, board, workbook_file_name(board.year)
    )
    return files
