"""A corpus of hostile (and a few ordinary) messages, as data.

Each ``Case`` is one message a person might send, or a channel might hand over: texts with
emoji, invisible and direction characters, control characters, very long lines, numbers
in every shape, injections and format strings, markup, commands with junk, forged and
stale button data, and the kinds of message that are not text. ``tests/test_hostile.py``
sends them at every screen of every flow.

A ``Case`` with ``seq_offset`` set is button data made at run time: ``"<seq>:<text>"``
where ``<seq>`` is the open draft's step number plus the offset (0: a forged value with
the current step number; -1: a stale button). Without a draft it is sent as ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import MAX_FILE_BYTES, Attachment, InputKind

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00photo of a hardened road" * 20


@dataclass(frozen=True)
class Case:
    category: str
    text: str = ""
    kind: InputKind = "text"
    attachments: tuple[Attachment, ...] = ()
    detail: str = ""
    unreadable: bool = False
    seq_offset: int | None = None  # button data "<seq + offset>:<text>" (see the module doc)

    @property
    def label(self) -> str:
        """A short printable name for failure messages."""
        shown = printable(self.text, 50)
        extra = f" seq{self.seq_offset:+d}" if self.seq_offset is not None else ""
        more = f" {self.detail!r}" if self.detail else ""
        flag = " unreadable" if self.unreadable else ""
        files = f" {len(self.attachments)} file(s)" if self.attachments else ""
        return f"[{self.category}] {self.kind}{extra}{more}{flag}{files} {shown}"


def printable(value: object, limit: int = 60) -> str:
    """``value`` quoted for a failure message: letters as they are (Vietnamese stays
    readable), invisible and control characters escaped (``\\u200b``), cut after ``limit``
    characters; not a string: its ``repr``."""
    text = value if isinstance(value, str) else repr(value)
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text[:limit])
    more = f"…({len(text)} characters)" if len(text) > limit else ""
    return f"'{shown}'{more}"


def _texts(category: str, *texts: str) -> list[Case]:
    return [Case(category, text) for text in texts]


def _choices(category: str, *texts: str) -> list[Case]:
    return [Case(category, text, kind="choice") for text in texts]


def _buttons(offset: int, *tokens: str) -> list[Case]:
    return [Case("button", token, kind="choice", seq_offset=offset) for token in tokens]


ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")
C0 = tuple(chr(code) for code in range(0x20))
C1 = ("\x7f", "\x80", "\x85", "\x9b", "\x9f")

EMOJI = _texts(
    "emoji",
    "👨‍👩‍👧‍👦",
    "🇻🇳",
    "🇻🇳🇺🇸🇯🇵",
    "🏳️‍🌈",
    "🏴‍☠️",
    "👍🏽",
    "👋🏿👋🏻",
    "🧑🏾‍🌾",
    "1️⃣",
    "5️⃣0️⃣0️⃣",
    "#️⃣",
    "🔟",
    "412 👍",
    "👍412",
    "Có 👍",
    "Không 😢",
    "Gửi 🚀",
    "🙂" * 2000,
    "👨‍👩‍👧‍👦" * 600,
    "Bà Lan 👵🏼 thôn 1",
    "\U0001f600\ufe0f\u20e3",
)

INVISIBLE = [
    *_texts("zero-width", *ZERO_WIDTH),
    *_texts("zero-width", *(f"4{z}1{z}2" for z in ZERO_WIDTH)),
    *_texts("zero-width", *(f"{z}412{z}" for z in ZERO_WIDTH)),
    *_texts("zero-width", *(f"C{z}ó" for z in ZERO_WIDTH)),
    *_texts("zero-width", *(f"G{z}ửi" for z in ZERO_WIDTH)),
    *_texts(
        "zero-width",
        "".join(ZERO_WIDTH),
        "\u200b" * 5000,
        "1.\u200b234",
        "12,\u20605",
        "65\u200btriệu",
        "Thôn\u200b 1",
        "\ufeffThôn 1",
        "Kh\u2060ông",
        "Bà\u200dLan",
        "\u00ad412",
        "4\u00ad12",
        "\u180e",
        "\u3000",
        "\u00a0412\u00a0",
        "4\u00a012",
        "\u2028",
        "\u2029",
        "/baocao\u200b",
        "/\u200bbaocao",
        "\u200b/baocao",
    ),
]

BIDIRECTIONAL = [
    *_texts("bidi", *BIDI),
    *_texts("bidi", *(f"{b}412" for b in BIDI[:5])),
    *_texts(
        "bidi",
        "\u202eGửi",
        "\u202e1\u202c",
        "41\u202e2",
        "\u2066Bà Lan\u2069",
        "\u2067مرحبا\u2069 412",
        "\u200f412\u200e",
        "\u061c412",
        "مرحبا بالعالم",
        "שלום עולם",
        "١٢٣",
        "٤١٢",
        "۴۱۲",
        "१२३",
        "שלום 412",
        "Bà Lan \u202enaL àB",
        "\u202e" * 3000,
    ),
]

CONTROL = [
    *_texts("c0", *C0),
    *_texts("c1", *C1),
    *_texts(
        "control",
        "1\x002",
        "412\x00",
        "\x00412",
        "Có\x00",
        "Bà\x00Lan",
        "Gửi\x00",
        "a\x07b\x08c",
        "\x1b[31mđỏ\x1b[0m",
        "\x1b]0;title\x07",
        "\t412\t",
        "4\t1\t2",
        "\r\n",
        "\r412\r",
        "dòng 1\rdòng 2",
        "\n\n\n",
        "   ",
        "",
        "\x0b\x0c",
        "Bà Lan\x85",
        "\x00" * 2000,
        "ghi chú\x1f\x1e\x1d",
    ),
]

ESCAPED = _texts(
    "escaped",
    "\\ud800",
    "\\udfff",
    "\\ud83d\\ude00",
    "\\u0000",
    "\\x00",
    "\\n",
    "%00",
    "&#0;",
    "&#x202e;",
    "\\u202e412",
    "\\",
    "\\\\",
    '"',
    "'",
    "\\N{DIGIT ONE}",
)

LONG = _texts(
    "long",
    "a" * 10_000,
    "9" * 10_000,
    " " * 10_000,
    "1 " * 5_000,
    "ố" * 10_000,
    "o\u0302\u0301" * 3_300,
    "x" + "\u0301" * 9_999,
    "\n" * 10_000,
    "1.000" * 2_000,
    "-" * 10_000,
    "{" * 10_000,
    "Gửi" * 3_300,
    "Có " * 3_300,
    ("gương người tốt việc tốt " * 500)[:10_000],
    "a" * 1_000,
    "a" * 1_001,
    "ă" * 1_001,
    "Bà " + "a" * 197,
    "Bà " + "a" * 198,
)

BIG_NUMBERS = _texts(
    "big-number",
    "9" * 40,
    "1" + "0" * 39,
    "-" + "9" * 40,
    "9" * 1_000,
    "0" * 1_000,
    "0" * 1_000 + "1",
    "1" + "0" * 999,
    "0," + "0" * 999 + "1",
    "1" + ".000" * 300,
    "9" * 4_301,
    "9" * 16,
    "999999999999999",
    "1000000000000000",
    "999.999.999.999.999",
    "1.000.000.000.000.000",
    "999 999 999 999 999",
    "0,000000000000001",
    "0,0000000000000001",
    "12345678901234567890,5",
    "9" * 40 + " triệu",
    "999999999999999 tỷ",
)

NUMBER_SHAPES = _texts(
    "number-shape",
    "1.2.3,4,5",
    "1,,2",
    "..",
    ".",
    ",",
    "-",
    "+",
    "+5",
    "−5",
    "–5",
    "--5",
    "5-",
    "1-2",
    "5e10",
    "5E10",
    "1e999",
    "1e-999",
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "∞",
    "0x1F",
    "0b101",
    "0o17",
    "1_000",
    "１２３",
    "１２，５",
    "１tr５",
    "²",
    "½",
    "Ⅻ",
    "一百",
    "một trăm",
    "65 triệu",
    "1tr5",
    "2,3 tỷ",
    "12abc",
    "abc12",
    "12 hộ",
    "12%",
    "1.234",
    "1.234,5",
    "1,234",
    "12.5",
    "12,5",
    "1.5",
    "1 234",
    "4 1 2",
    "0",
    "00",
    "-0",
    "0,0",
    "1/2",
    "3:00",
    "5k",
    "5 nghìn",
    "rưỡi",
    "hai mươi",
    "1tr",
    "tr5",
    "1,5tr",
    "1.5tr",
    "10^3",
    "(5)",
    "5.",
    "5,",
    ".5",
    ",5",
    "5..0",
    "100",
    "500",
    "412",
    "90",
    "5001",
)

INJECTION = _texts(
    "sql",
    "'; DROP TABLE reports; --",
    "1 OR 1=1",
    "1; DELETE FROM people",
    "' OR '1'='1",
    '"; --',
    "1' UNION SELECT code FROM invites --",
    "Robert'); DROP TABLE nominations;--",
    "%' --",
    "1 AND SLEEP(5)",
    "x' AND 1=(SELECT COUNT(*) FROM drafts) --",
)

FORMAT = _texts(
    "format",
    "{0}",
    "{}",
    "%s",
    "%(name)s",
    "{name}",
    "{{",
    "}}",
    "{0!r}",
    "${HOME}",
    "{form}",
    "{village}",
    "{nominee}",
    "{period}",
    "{limit}",
    "{0.__class__}",
    "{:>10000}",
    "{0:{1}}",
    "%d %n %%",
    "%1$s",
    "$(whoami)",
    "`id`",
    "#{7*7}",
    "{{7*7}}",
    "<%= 7*7 %>",
)

MARKUP = _texts(
    "markup",
    "<b>x</b>",
    "<script>alert(1)</script>",
    "<",
    ">",
    "&amp;",
    "&lt;b&gt;",
    "*bold*",
    "_x_",
    "[a](http://x)",
    "`code`",
    "```",
    "```python\nprint(1)\n```",
    "~~x~~",
    "||spoiler||",
    "<a href='tg://user?id=1'>x</a>",
    "# heading",
    "> quote",
    "\\*",
    "<img src=x onerror=alert(1)>",
    "<i>Có</i>",
    "**Gửi**",
)

COMMANDS = _texts(
    "command",
    "/baocao x y z",
    "/duyet 99999999999999999999 ghinhan",
    "/duyet -1 x",
    "/start",
    "/start " + "A" * 300,
    "/start " + "ố{0}" * 100,
    "/traloi abc",
    "/ngonngu zz",
    "/",
    "//",
    "/ baocao",
    "/BAOCAO",
    "/baocao@other_bot",
    "/baocao@",
    "/baocao thang 1999-01",
    "/baocao thang 2026-11",
    "/baocao thang 9999-99",
    "/baocao thang 2026-13",
    "/baocao " + "x" * 10_000,
    "/baocao moi",
    "/duyet",
    "/duyet 1",
    "/duyet 1 ghinhan",
    "/duyet 1 bosung",
    "/duyet 2 khongdat",
    "/duyet 1 tiep",
    "/duyet 0 tiep",
    "/duyet ² ghinhan",
    "/duyet １ ghinhan",
    "/duyet " + "9" * 5_000 + " ghinhan",
    "/duyet 1 ghinhan moi",
    "/traloi",
    "/traloi 2",
    "/traloi 99999999999999999999",
    "/traloi -2",
    "/traloi ²",
    "/traloi " + "9" * 5_000,
    "/tieptuc",
    "/huy",
    "/cancel",
    "/moi",
    "/detcu",
    "/detcu moi",
    "/detcu_ds",
    "/tonghop",
    "/xuat",
    "/bantin",
    "/huongdan",
    "/ngonngu",
    "/ngonngu VI",
    "/ngonngu " + "z" * 5_000,
    "/khongco",
    "/start ABCD",
    "/start \u200b",
    "/ start",
    "/baocao\nthang 2026-11",
    "/báocáo",
    "/ＢＡＯＣＡＯ",
    "/" + "a" * 10_000,
    "/{0}",
    "/%s",
)

ORDINARY = _texts(
    "ordinary",
    "Có",
    "không",
    "Gửi",
    "gui",
    " GỬI ",
    "Sửa",
    "Hủy",
    "Quay lại",
    "quay lai",
    "Bỏ qua",
    "Xong",
    "1",
    "2",
    "3",
    "4",
    "99",
    "１",
    "Thôn 1",
    "thon 2",
    "Khác",
    "Thôn văn hóa",
    "Đúng, giữ 500 hộ",
    "Nhập lại",
    "Làm tiếp",
    "xin chào",
    "Bà Lan",
    "Nấu cơm cho bệnh nhân nghèo.",
    "K7QX-M2PA",
    "SAI0XYZ",
)

FORGED = _choices(
    "forged",
    "0:y",
    "999:y",
    "1:c99",
    "1:e-1",
    "lang:xx",
    "lang:",
    "lang:" + "x" * 1_000,
    "lang:vi",
    "",
    ":",
    ":" * 100,
    "/duyet 1 ghinhan",
    "/duyet 2 bosung",
    "/baocao thang 1999-01",
    "/baocao thang 2026-11",
    "/traloi 2",
    "/huy",
    "/start",
    "9" * 200 + ":y",
    "9" * 5_000 + ":y",
    "x" * 10_000,
    "-1:y",
    "²:y",
    "１:y",
    "1:",
    "1::",
    " 1:y",
    "1:y ",
    "1:\x00",
    "1:{0}",
)

BUTTONS = [
    *_buttons(
        0,
        "y",
        "n",
        "skip",
        "back",
        "send",
        "edit",
        "cancel",
        "keep",
        "retype",
        "done",
        "late",
        "current",
        "c0",
        "c1",
        "c99",
        "c-1",
        "c²",
        "c" + "9" * 5_000,
        "e0",
        "e5",
        "e99",
        "e²",
        "a0",
        "a1",
        "a9",
        "a²",
        "f0",
        "f1",
        "f9",
        "f²",
        "v0",
        "v2",
        "v99",
        "v²",
        "v" + "9" * 5_000,
        "k0",
        "k5",
        "k99",
        "k²",
        "",
        "y:extra",
        "{0}",
    ),
    *_buttons(-1, "y", "send", "c0", "e0", "k0", "v0"),
    *_buttons(1, "y", "send"),
]

PHOTO = [
    Case("photo", kind="photo", attachments=(Attachment("ANH1", len(JPEG), "image/jpeg", JPEG),)),
    Case("photo", kind="photo", attachments=(Attachment("ANH2", 50_000, "image/jpeg"),)),
    Case(
        "photo",
        kind="photo",
        attachments=(Attachment("ANH3", MAX_FILE_BYTES + 1, "image/jpeg"),),
    ),
    Case("photo", kind="photo", attachments=(Attachment("ANH4", 10**18, None),)),
    Case("photo", kind="photo", attachments=(Attachment("ANH5", None, None, JPEG[::-1]),)),
    Case("photo", kind="photo", attachments=(Attachment("ANH6", 0, "image/png", b""),)),
    Case("photo", kind="photo", attachments=(Attachment("ANH7", -1, "image/jpeg", JPEG + b"7"),)),
    Case("photo", kind="photo"),  # a photo the channel gave no attachment for
    Case(
        "photo",
        "412",
        kind="photo",
        attachments=(
            Attachment("ANH8", len(JPEG), "image/jpeg", JPEG + b"8"),
            Attachment("ANH9", len(JPEG), "image/jpeg", JPEG + b"9"),
        ),
    ),
    Case("photo", "/baocao", kind="photo"),
]

OTHER = [
    Case("other", kind="other", detail="sticker"),
    Case("other", kind="other", detail="voice"),
    Case("other", kind="other", detail="audio"),
    Case("other", kind="other", detail="video"),
    Case("other", kind="other", detail="video_note"),
    Case("other", kind="other", detail="location"),
    Case("other", kind="other"),
    Case("other", "412", kind="other", detail="document"),
    Case("other", kind="other", detail="{0}" + "x" * 5_000),
    Case("unreadable", unreadable=True),
    Case("unreadable", "412", unreadable=True),
    Case("unreadable", "/baocao", unreadable=True),
    Case("unreadable", kind="other", unreadable=True),
    Case(
        "unreadable",
        kind="photo",
        unreadable=True,
        attachments=(Attachment("ANH10", len(JPEG), "image/jpeg", JPEG),),
    ),
]

CORPUS: tuple[Case, ...] = (
    *EMOJI,
    *INVISIBLE,
    *BIDIRECTIONAL,
    *CONTROL,
    *ESCAPED,
    *LONG,
    *BIG_NUMBERS,
    *NUMBER_SHAPES,
    *INJECTION,
    *FORMAT,
    *MARKUP,
    *COMMANDS,
    *ORDINARY,
    *FORGED,
    *BUTTONS,
    *PHOTO,
    *OTHER,
)
