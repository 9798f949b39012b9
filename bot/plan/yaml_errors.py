"""PyYAML's syntax errors said in the person's language, with their line and column.

PyYAML explains a syntax error in English (``mapping values are not allowed here``) at
a mark (line and column, from 0). ``syntax_problem`` turns the errors a commune officer
meets when editing a plan by hand — a colon inside a value, a tab, an unclosed quote or
bracket, an indentation that does not line up — into a sentence that says what to do,
and any other one into a Vietnamese sentence that keeps PyYAML's words as a detail.
"""

from __future__ import annotations

import re

import yaml

from bot.i18n import _


def _explain(problem: str, context: str, opened: int | None) -> str:
    """What went wrong and how to fix it, from PyYAML's ``problem`` and ``context``
    (``opened``: the line where the quote or bracket the error is about was opened)."""
    where = opened if opened is not None else "?"
    if "mapping values are not allowed here" in problem:
        return _(
            "có dấu hai chấm “:” ở chỗ không được dùng. Nếu giá trị có dấu hai chấm, đặt cả "
            'giá trị trong ngoặc kép (ví dụ title: "Báo cáo: tháng"); nếu không, kiểm tra '
            "thụt lề của dòng này"
        )
    if "could not find expected ':'" in problem:
        return _(
            "thiếu dấu hai chấm “:” giữa khóa và giá trị (viết dạng khóa: giá trị), hoặc một "
            "giá trị viết tràn sang dòng sau"
        )
    if "that cannot start any token" in problem and "'\\t'" in problem:
        return _("có ký tự Tab: YAML chỉ thụt lề bằng dấu cách")
    found = re.search(r"found character (.+) that cannot start any token", problem)
    if found:
        return _(
            "ký tự {char} không được đứng đầu một giá trị; đặt cả giá trị trong ngoặc kép"
        ).format(char=found.group(1))
    if "quoted scalar" in context:
        return _(
            "chuỗi mở bằng dấu ngoặc ở dòng {line} chưa được đóng (mỗi dấu \" hoặc ' mở "
            "phải có một dấu đóng cùng loại)"
        ).format(line=where)
    if "expected ',' or ']'" in problem:
        return _(
            "danh sách mở bằng “[” ở dòng {line} thiếu dấu phẩy “,” giữa các mục hoặc "
            "thiếu dấu “]” đóng"
        ).format(line=where)
    if "expected ',' or '}'" in problem:
        return _(
            "bảng mở bằng “{{” ở dòng {line} thiếu dấu phẩy “,” giữa các mục hoặc thiếu "
            "dấu “}}” đóng"
        ).format(line=where)
    if "expected <block end>" in problem or "expected '<document start>'" in problem:
        return _(
            "thụt lề của dòng này không khớp với các dòng phía trên: các khóa cùng cấp phải "
            "thẳng cột, và các mục “- ” của một danh sách thẳng hàng với nhau"
        )
    if "sequence entries are not allowed here" in problem:
        return _(
            "dấu “-” mở một mục danh sách ở chỗ không được dùng; kiểm tra thụt lề của dòng này"
        )
    if "found undefined alias" in problem or "expected alphabetic or numeric" in problem:
        return _(
            "dấu “*” hoặc “&” ở đầu giá trị có nghĩa riêng trong YAML; nếu đây là chữ, "
            "đặt cả giá trị trong ngoặc kép"
        )
    if "found unknown escape character" in problem:
        return _(
            "trong ngoặc kép, dấu “\\” phải đi với một ký tự hợp lệ; viết “\\\\”, hoặc "
            "dùng ngoặc đơn '…'"
        )
    if "could not determine a constructor for the tag" in problem:
        return _(
            "dấu “!” ở đầu giá trị có nghĩa riêng trong YAML; nếu đây là chữ, đặt cả giá "
            "trị trong ngoặc kép"
        )
    if "found unhashable key" in problem:
        return _("tên khóa phải là một chữ, không phải một danh sách hay một bảng")
    if "expected a single document" in context:
        return _("tệp chỉ được chứa một kế hoạch: bỏ dòng “---” thứ hai")
    if "expected the node content" in problem:
        return _("thiếu một giá trị ở đây; kiểm tra các dấu , ] } : và thụt lề")
    return _("tệp viết sai cú pháp ở đây (chi tiết: {detail})").format(
        detail=" ".join(part for part in (context, problem) if part)
    )


def syntax_problem(error: yaml.YAMLError, text: str) -> tuple[int | None, int | None, str]:
    """(line, column, message) of a YAML error in ``text``, both counted from 1 (None
    when PyYAML gave no position); the message starts ``Lỗi cú pháp YAML``."""
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        detail = _(
            "có ký tự điều khiển không in được (mã #x{code:04x}); xóa ký tự này (thường do "
            "sao chép từ một văn bản khác)"
        ).format(code=error.character if isinstance(error.character, int) else 0)
        return line, column, _("Lỗi cú pháp YAML: {detail}.").format(detail=detail)
    if not isinstance(error, yaml.MarkedYAMLError):
        return None, None, _("Lỗi cú pháp YAML: {detail}.").format(detail=error)
    mark = error.problem_mark or error.context_mark
    if "could not find expected ':'" in (error.problem or "") and error.context_mark:
        mark = error.context_mark  # the key without its colon, not the line after it
    opened = error.context_mark.line + 1 if error.context_mark is not None else None
    detail = _explain(error.problem or "", error.context or "", opened)
    message = _("Lỗi cú pháp YAML: {detail}.").format(detail=detail)
    if mark is None:
        return None, None, message
    return mark.line + 1, mark.column + 1, message
