"""Rendering shared by channels: splitting long texts, numbered menus, Telegram keyboards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import numbered_menu, split_text
from bot.channels.telegram import TelegramOptions
from bot.messages import Choice, Reply
from handlers.telegram import keyboard


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=0, max_size=300),
        max_size=30,
    ),
    st.integers(min_value=20, max_value=500),
)
def test_split_text_keeps_every_piece_under_the_limit_and_loses_nothing(
    paragraphs: list[str], limit: int
) -> None:
    text = "\n\n".join(paragraphs)
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    squeeze = "".join(text.split())
    assert "".join("".join(piece.split()) for piece in pieces) == squeeze


def test_split_text_prefers_paragraph_breaks() -> None:
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}", 4096) == [first, second]
    assert split_text("short", 4096) == ["short"]


def test_numbered_menu_for_a_choice_screen() -> None:
    reply = Reply(
        "Thôn đã đăng ký thu gom rác chưa?", (Choice("Có", "1:y"), Choice("Không", "1:n"))
    )
    text = numbered_menu(reply)
    assert "1. Có   2. Không" in text
    assert "Trả lời 1 hoặc 2." in text


def test_numbered_menu_offers_words_where_a_number_is_the_answer() -> None:
    reply = Reply(
        "Thôn hiện có bao nhiêu hộ?",
        (Choice("Bỏ qua", "3:skip"), Choice("Quay lại", "3:back")),
        typed_answer=True,
    )
    text = numbered_menu(reply)
    assert "1." not in text
    assert "“Bỏ qua”" in text and "“Quay lại”" in text


def test_long_menus_go_one_per_line() -> None:
    choices = tuple(Choice(f"Câu hỏi số {i} khá dài", f"1:e{i}") for i in range(5))
    text = numbered_menu(Reply("Sửa câu nào?", choices))
    assert "\n1. Câu hỏi số 0 khá dài\n2. " in text
    assert "từ 1 đến 5" in text


def test_keyboard_rows() -> None:
    short = keyboard(Reply("?", (Choice("Có", "1:y"), Choice("Không", "1:n"))))
    assert short is not None and len(short.inline_keyboard) == 1
    long = keyboard(Reply("?", tuple(Choice(f"Lựa chọn dài {i}", f"1:c{i}") for i in range(4))))
    assert long is not None and len(long.inline_keyboard) == 4
    assert keyboard(Reply("no buttons")) is None


def test_file_url_follows_the_api_url() -> None:
    assert TelegramOptions("t").files_url == "https://api.telegram.org/file/bot"
    assert TelegramOptions("t", api_url="http://127.0.0.1:8081/bot").files_url == (
        "http://127.0.0.1:8081/file/bot"
    )
    assert TelegramOptions("t", file_api_url="http://x/files/").files_url == "http://x/files/"
