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
from docx.shared import Mm, Pt, Twips

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
from bot.text import in_sentence

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297  # A4
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}  # Nghị định 30/2020/NĐ-CP
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]
CELL_MARGIN_MM = 1.9  # a table cell's left and right inner margin (Word's default, 0.19 cm)
# The heading (Nghị định 30/2020, Phụ lục I): the issuing body in the left 40 % of the text
# width, the Quốc hiệu in the right 60 %. At 12 pt bold the Quốc hiệu takes 88 mm in Times
# New Roman (95 mm at 13 pt), so it stays on one line in the 99 mm column.
HEADER_WIDTHS_MM = (TEXT_WIDTH_MM * 0.4, TEXT_WIDTH_MM * 0.6)
BODY_NAME_PT = 12  # the issuing body and its superior: capitals, 12–13 pt
QUOC_HIEU_PT = 12  # capitals, bold, 12–13 pt
TIEU_NGU_PT = 13  # bold, 13–14 pt
# A bold capital takes about 0.61 em in Times New Roman, a bold mixed-case letter 0.46 em
# (spaces included): enough to size the short lines and to break a long name in two.
CAPS_EM, BOLD_EM = 0.61, 0.46
PT_MM = 25.4 / 72
BLANK = "…" * 30  # a line left for a person to write on (the width of the text, 14 pt)
LABEL_BLANK = "…" * 22  # the rest of a line after a short label
SHORT_BLANK = "……"
# Each table's column widths (mm, summing to the text width, 165 mm): a number column just
# wide enough for its bold heading (STT, Hạng) at 13 pt, points for ``62,2/100``, dates for
# ``25/10/2026``, the rest to the text columns.
CRITERIA_WIDTHS_MM = (13, 36, 39, 55, 22)  # STT, Tiêu chí, Chỉ tiêu, Kết quả, Điểm
REPORTS_WIDTHS_MM = (13, 38, 38, 26, 26, 24)  # STT, Báo cáo, Kỳ, Hạn nộp, Ngày gửi, Đánh giá
DEEDS_WIDTHS_MM = (13, 32, 35, 50, 35)  # STT, Số hồ sơ, Người, Việc làm, Các giai đoạn
RESULTS_WIDTHS_MM = (15, 30, 25, 36, 59)  # Hạng, Thôn, Tổng điểm, Xếp loại, Ghi chú
VOTES_WIDTHS_MM = (13, 28, 44, 24, 24, 32)  # STT, Thôn, Xếp loại, Đồng ý, Không, Thống nhất
# Past this many criteria without data, the minutes count them instead of naming them.
MISSING_LISTED = 3
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
    tbl_pr.insert_element_before(
        borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
        "w:tblDescription", "w:tblPrChange",
    )  # fmt: skip


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def _widths(table: Any, widths_mm: Sequence[float]) -> None:
    """Fixed column widths: the layout fixed (not autofit), the table's width, its grid
    (what LibreOffice reads) and every cell's width (what Word reads) set alike. Widths are
    rounded to whole twips, the last column taking what rounding left, so that they sum to
    the table's width exactly."""
    twips = [_twips(w) for w in widths_mm]
    twips[-1] = _twips(sum(widths_mm)) - sum(twips[:-1])
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.insert_element_before(
            tbl_w, "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
            "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
            "w:tblPrChange",
        )  # fmt: skip
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(twips)))
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, twips, strict=True):
        column.w = Twips(width)
    for row in table.rows:
        for cell, width in zip(row.cells, twips, strict=True):
            cell.width = Twips(width)


def _text_mm(text: str, size_pt: float, em: float) -> float:
    """About how wide ``text`` is in Times New Roman at ``size_pt`` (``em``: CAPS_EM or
    BOLD_EM)."""
    return len(text) * em * size_pt * PT_MM


def _lines(text: str, width_mm: float, size_pt: float, em: float = CAPS_EM) -> list[str]:
    """``text`` on one line if it fits ``width_mm``, else in two lines broken at a space:
    after a dash when both lines fit (``HỘI ĐỒNG THI ĐUA –`` / ``KHEN THƯỞNG``), else
    as even as can be, never with a dash starting the second line."""
    if _text_mm(text, size_pt, em) <= width_mm or " " not in text.strip():
        return [text]
    words = text.split()
    dashes = ("–", "-")
    splits = [
        [" ".join(words[:at]), " ".join(words[at:])]
        for at in range(1, len(words))
        if words[at] not in dashes
    ]
    if not splits:
        return [text]
    after_dash = [
        lines
        for lines in splits
        if lines[0].endswith(dashes)
        and all(_text_mm(line, size_pt, em) <= width_mm for line in lines)
    ]
    if after_dash:
        return min(after_dash, key=lambda lines: max(len(line) for line in lines))
    return min(splits, key=lambda lines: max(len(line) for line in lines))


def _rule(cell: Any, length_mm: float, cell_width_mm: float) -> None:
    """A short horizontal line, centred in the cell under the paragraph before it: the
    bottom border of an empty 2 pt paragraph indented to ``length_mm``."""
    paragraph = _cell_paragraph(cell, "", align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    inner = cell_width_mm - 2 * CELL_MARGIN_MM
    indent = max((inner - min(length_mm, inner)) / 2, 0)
    paragraph.paragraph_format.left_indent = Mm(indent)
    paragraph.paragraph_format.right_indent = Mm(indent)
    paragraph.paragraph_format.line_spacing = 1.0
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    p_pr.insert_element_before(
        borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
        "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
        "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
        "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
        "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
        "w:pPrChange",
    )  # fmt: skip
    mark = p_pr.find(qn("w:rPr"))
    if mark is None:
        mark = OxmlElement("w:rPr")
        p_pr.insert_element_before(mark, "w:sectPr", "w:pPrChange")
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), "4")  # half-points: the empty line is 2 pt high
        mark.append(size)


def _lines_paragraph(cell: Any, lines: Sequence[str], **kwargs: Any) -> Any:
    """One paragraph of ``lines`` joined by line breaks (one name kept in one paragraph)."""
    paragraph = _cell_paragraph(cell, lines[0], **kwargs)
    run = paragraph.runs[0]
    for line in lines[1:]:
        run.add_break()
        run.add_text(line)
    return paragraph


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
    """The heading of Nghị định 30/2020 (Phụ lục I), a borderless table of two columns, 40 %
    and 60 % of the text width: on the left the issuing body's superior in capitals, the
    body itself in bold capitals below it (a long name broken in two even lines), a short
    line under it (half the name's width); on the right the Quốc hiệu in bold capitals on
    one line, the tiêu ngữ in bold below it, a line as long as the tiêu ngữ under it, then
    the place and date in italics."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, HEADER_WIDTHS_MM)
    left_mm, right_mm = HEADER_WIDTHS_MM
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    inner = left_mm - 2 * CELL_MARGIN_MM
    _lines_paragraph(left, _lines(body, inner, BODY_NAME_PT), align=center, size=BODY_NAME_PT,
                     after=0)  # fmt: skip
    unit_lines = _lines(unit, inner, BODY_NAME_PT)
    _lines_paragraph(left, unit_lines, bold=True, align=center, size=BODY_NAME_PT, after=0)
    # Half the name's width (Nghị định 30: 1/3 to 1/2 of it), a third of the body's line
    # at least, so that a short name (THÔN 1) still has a visible line.
    unit_mm = max(_text_mm(line, BODY_NAME_PT, CAPS_EM) for line in unit_lines)
    _rule(left, max(unit_mm / 2, _text_mm(body, BODY_NAME_PT, CAPS_EM) / 3), left_mm)
    _cell_paragraph(
        right, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), bold=True, align=center,
        size=QUOC_HIEU_PT, after=0,
    )  # fmt: skip
    motto = _("Độc lập - Tự do - Hạnh phúc")
    _cell_paragraph(right, motto, bold=True, align=center, size=TIEU_NGU_PT, after=0)
    _rule(right, _text_mm(motto, TIEU_NGU_PT, BOLD_EM), right_mm)
    place = _cell_paragraph(right, date_line(plan), italic=True, align=center, after=0)
    place.paragraph_format.space_before = Pt(6)


def _title(doc: Any, title: str, *subtitles: str) -> None:
    heading = _paragraph(doc, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    heading.paragraph_format.space_before = Pt(18)
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


def _row_flag(row: Any, tag: str) -> None:
    """Turn on a row property (``w:cantSplit``, ``w:tblHeader``), in the schema's order."""
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement(tag)
    flag.set(qn("w:val"), "true")
    order = ("w:cantSplit", "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden")
    tr_pr.insert_element_before(flag, *order[order.index(tag) + 1 :], "w:ins", "w:del",
                                "w:trPrChange")  # fmt: skip


def _table(
    doc: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    right_aligned: Sequence[int] = (),
    centred: Sequence[int] = (0,),
) -> Any:
    """A bordered table in 13 pt with a bold, centred header row repeated on every page,
    its columns ``widths_mm`` wide (they sum to the text width), no row split across two
    pages; the columns ``centred`` (the number, STT or Hạng) centred, the columns
    ``right_aligned`` (points) on the right, the rest on the left."""
    assert len(widths_mm) == len(header)
    assert abs(sum(widths_mm) - TEXT_WIDTH_MM) < 0.01, sum(widths_mm)
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths_mm)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _cell_paragraph(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=TABLE_PT)
    _row_flag(table.rows[0], "w:cantSplit")
    _row_flag(table.rows[0], "w:tblHeader")
    for row, values in zip(table.rows[1:], rows, strict=True):
        _row_flag(row, "w:cantSplit")
        for index, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            if index in centred:
                align = WD_ALIGN_PARAGRAPH.CENTER
            elif index in right_aligned:
                align = WD_ALIGN_PARAGRAPH.RIGHT
            else:
                align = WD_ALIGN_PARAGRAPH.LEFT
            _cell_paragraph(cell, text, align=align, size=TABLE_PT, after=0)
    _paragraph(doc, "", after=0)
    return table


def _signatures(doc: Any, left: tuple[str, str], right: tuple[str, str]) -> None:
    """Two signature blocks side by side: a bold title, its note in italics, room to sign;
    kept whole on one page, with the document's last sentence."""
    if doc.paragraphs:
        doc.paragraphs[-1].paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (TEXT_WIDTH_MM / 2, TEXT_WIDTH_MM / 2))
    _row_flag(table.rows[0], "w:cantSplit")
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
            village=village.name, commune=in_sentence(plan.commune)
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
        CRITERIA_WIDTHS_MM,
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
            REPORTS_WIDTHS_MM,
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
            DEEDS_WIDTHS_MM,
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
            blank=SHORT_BLANK,
            commune=in_sentence(plan.commune),
            year=board.year,
            count=len(board.villages),
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
            notes.append(_missing_note(score))
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
        RESULTS_WIDTHS_MM,
        right_aligned=(2,),
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
        VOTES_WIDTHS_MM,
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


def _missing_note(score: VillageScore) -> str:
    """The criteria a village has no data for, as the minutes note them: named when there
    are a few (``thiếu số liệu: Điện lưới, Thu gom rác``), counted past MISSING_LISTED
    (``thiếu số liệu ở 11/14 tiêu chí``; the workbook names them all)."""
    missing = [c.criterion.title for c in score.criteria if c.missing]
    if len(missing) > MISSING_LISTED:
        return _("thiếu số liệu ở {missing}/{count} tiêu chí").format(
            missing=len(missing), count=len(score.criteria)
        )
    return _("thiếu số liệu: {criteria}").format(criteria=", ".join(missing))


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
