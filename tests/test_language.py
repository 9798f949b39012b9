"""Changing language mid-form (issue 10, point 8): the language's name typed at the
language menu switches it whatever is open, and the open screen is shown again in the new
language; anywhere else the same words are an answer like any other."""

from __future__ import annotations

import itertools

from bot.messages import Incoming, Reply
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage
from tests.conftest import FakeClock, add_invite

_updates = itertools.count(1)


async def send(
    conversations: Conversations, text: str, kind: str = "text", user: str = "1"
) -> tuple[list[Reply], str]:
    incoming = Incoming(
        "zalo",
        user,
        user,
        kind,
        text,
        update_key=str(next(_updates)),  # type: ignore[arg-type]
    )
    outcome = await conversations.handle(incoming)
    return outcome.replies, outcome.locale


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def at_second_question(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await send(conversations, "/start HEAD2345")
    await send(conversations, "/baocao")
    await send(conversations, "2")  # this month, not the late one
    replies, _locale = await send(conversations, "412")
    assert "Câu 2/6" in joined(replies)


async def test_typing_a_language_at_its_menu_switches_mid_form(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await at_second_question(conversations, storage, clock)
    menu, _locale = await send(conversations, "/ngonngu")
    assert [c.label for c in menu[-1].choices] == ["Tiếng Việt", "English"]
    switched, locale = await send(conversations, "English")
    assert locale == "en"
    assert switched[0].text == "Switched to English."
    assert "Question 2/6 · Báo cáo tháng" in switched[-1].text  # the pending question, again
    answered, _locale = await send(conversations, "400")
    assert "Question 3/6" in joined(answered)
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("zalo", "1")
        assert person is not None and person.locale == "en"
        draft = await tx.draft(person.id)
    assert draft is not None and draft["answers"] == {"tong_ho": "412", "ho_co_dien": "400"}
    assert "language_menu" not in draft
    await send(conversations, "/language")
    back, locale = await send(conversations, "tieng viet")
    assert locale == "vi" and back[0].text == "Đã chuyển sang tiếng Việt."
    assert "Câu 3/6" in back[-1].text


async def test_a_language_name_away_from_its_menu_is_an_answer(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await at_second_question(conversations, storage, clock)
    replies, locale = await send(conversations, "English")
    assert locale == "vi" and "chưa hiểu" in joined(replies)
    await send(conversations, "400")
    await send(conversations, "có")
    await send(conversations, "bỏ qua")
    await send(conversations, "1")  # Thôn văn hóa: at the note, a text question
    await send(conversations, "/ngonngu")
    summary, _locale = await send(conversations, "Đường đã sửa")  # the note: the menu is gone
    assert "6. Ghi chú: Đường đã sửa" in joined(summary)
    replies, locale = await send(conversations, "English")
    assert locale == "vi" and "Xin chọn Gửi, Sửa hoặc Hủy." in joined(replies)


async def test_the_language_button_and_command_show_the_open_screen_again(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await at_second_question(conversations, storage, clock)
    pressed, locale = await send(conversations, "lang:en", kind="choice")
    assert locale == "en" and "Question 2/6" in pressed[-1].text
    typed, locale = await send(conversations, "/ngonngu vi")
    assert locale == "vi" and "Câu 2/6" in typed[-1].text


async def test_a_language_at_its_menu_over_a_nomination_switches_too(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await send(conversations, "/start HEAD2345")
    await send(conversations, "/detcu")
    await send(conversations, "/ngonngu")
    switched, locale = await send(conversations, "English")  # not a nominee's name
    assert locale == "en" and switched[0].text == "Switched to English."
    assert len(switched) == 2  # and the nomination's question again
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("zalo", "1")
        assert person is not None
        draft = await tx.draft(person.id)
    assert draft is not None and draft.get("nominee") in (None, "")
