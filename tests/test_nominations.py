"""Good-deed nominations end to end: the real python-telegram-bot Application against the Bot
API stand-in, a real SQLite file, the outbox sending the notices, a clock the tests move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.domain import Person
from bot.messages import MAX_FILE_BYTES
from bot.plan.model import Plan
from bot.ratelimit import Limits
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests.conftest import FakeClock, attach
from tests.standin.telegram import BotApiStandIn, SimUser
from tests.test_outbox import make_outbox, register

PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of the village road" * 40


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", m.get("caption", ""))) for m in messages)


async def deliver(storage: SqliteStorage, telegram: TelegramChannel, clock: FakeClock,
                  plan: Plan) -> None:  # fmt: skip
    """Let the outbox send what the bot queued (notices to reviewers and nominators)."""
    await make_outbox(storage, telegram, clock, plan).send_due()


async def nominate(user: SimUser, nominee: str, deed: str, photo: bool = True) -> str:
    """A head's whole nomination; returns the receipt."""
    first = await user.say("/detcu")
    assert "bước 1/5" in texts(first)
    villages = await user.say(nominee)
    assert next(label for label, _data in user.last_buttons()) == "Thôn 1"  # their own first
    assert "Thôn 2" in [label for label, _data in user.last_buttons()]
    assert f"{nominee} ở thôn nào?" in texts(villages)
    await user.press(user.button("Thôn 2"))
    await user.say(deed)
    await user.press(user.button("Từ thiện nhân đạo"))
    if photo:
        got = await user.send_photo(file_id="ANH1", data=PHOTO)
        assert "Đã nhận ảnh 1/3" in texts(got)
        summary = await user.press(user.button("Xong"))
    else:
        summary = await user.press(user.button("Bỏ qua"))
    assert "Tóm tắt đề cử" in texts(summary)
    receipt = await user.press(user.button("Gửi"))
    return texts(receipt)


async def people(storage: SqliteStorage, clock: FakeClock) -> tuple[Person, Person, Person]:
    return (
        await register(storage, clock, "Anh Một", 1001, village="thon_1"),
        await register(storage, clock, "Chị Thư", 2001, "secretariat", None),
        await register(storage, clock, "Ông Chủ tịch", 2002, "chair", None),
    )


async def test_a_nomination_with_a_photo_survives_a_restart_and_reaches_the_secretariat(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    inbox: Inbox,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    await head.say("/detcu")
    await head.say("Bà Nguyễn Thị Lan")
    await head.press(head.button("Thôn 2"))
    await head.say("Bà nấu cơm miễn phí cho bệnh nhân nghèo suốt ba năm.")
    await head.press(head.button("Từ thiện nhân đạo"))
    got = await head.send_photo(file_id="ANH1", data=PHOTO)
    assert "Đã nhận ảnh 1/3" in texts(got)

    # The bot restarts: a new Application, inbox, outbox and conversations; the same database.
    await telegram.stop()
    await inbox.stop()
    options = TelegramOptions(
        token=standin.token, api_url=standin.base_url, poll_timeout=1, limits=Limits(chat_burst=100)
    )
    sender = Outbox(storage, {}, clock)
    received = Inbox(storage, Conversations(small_plan, storage, clock), sender, clock)
    again = TelegramChannel(options, received, small_plan.tz)
    attach(again, received, sender)
    await received.start()
    await again.connect()
    try:
        summary = await head.press(head.button("Xong"))
        text = texts(summary)
        assert "Người được đề cử: Bà Nguyễn Thị Lan" in text and "Ảnh: 1" in text
        receipt = texts(await head.press(head.button("Gửi")))
        assert "Đã nhận đề cử số ĐC-2026-0001" in receipt
        await deliver(storage, again, clock, small_plan)
    finally:
        await again.stop()
        await received.stop()

    card = standin.messages_to(2001)
    assert "Đề cử mới cần xét" in texts(card) and "Bà Nguyễn Thị Lan (Thôn 2)" in texts(card)
    assert [label for label, _data in _buttons(card[0])] == [
        "Ghi nhận", "Cần bổ sung", "Không đủ điều kiện",
    ]  # fmt: skip
    photos = [c for c in standin.calls("sendPhoto") if c.status == 200]
    assert len(photos) == 1 and photos[0].params["photo"].data == PHOTO
    assert standin.messages_to(2002) == []  # review is the secretariat's
    async with storage.transaction() as tx:
        [nomination] = await tx.nominations()
        stored = await tx.file(nomination.photos[0])
    assert stored is not None and stored[0] == PHOTO


def shown(standin: BotApiStandIn, chat: int, needle: str) -> dict[str, Any]:
    """The latest message in the chat whose text holds ``needle``, as the chat shows it."""
    found = [m for m in standin.bot_messages(chat) if needle in str(m.get("text", ""))]
    assert found, f"no message with {needle!r} in chat {chat}"
    return found[-1]


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_review_asks_the_nominator_and_attaches_the_answer_then_stages_move(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head_person, clerk_person, chair_person = await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    clerk = standin.user(2001, "Chị Thư")
    chair = standin.user(2002, "Ông Chủ tịch")
    assert "ĐC-2026-0001" in await nominate(head, "Bà Lan", "Nấu cơm cho bệnh nhân nghèo.")
    await deliver(storage, telegram, clock, small_plan)

    # "Cần bổ sung": the reviewer types the question; it reaches the nominator.
    card = shown(standin, 2001, "Đề cử mới cần xét")
    asked = await clerk.press("/duyet 1 bosung", message=card)
    assert "Gõ câu hỏi" in texts(asked)
    done = await clerk.say("Bà Lan giúp bao nhiêu người mỗi tháng?")
    assert "Chờ bổ sung" in texts(done)
    await deliver(storage, telegram, clock, small_plan)
    question = standin.messages_to(1001)[-1]
    assert "cần bổ sung: Bà Lan giúp bao nhiêu người mỗi tháng?" in question["text"]
    # The head's list shows the question and how to answer it; the reviewers' list too.
    mine = await head.say("/detcu_ds", replies=2)
    assert "Chờ bổ sung" in texts(mine[:1])
    assert "cần bổ sung: Bà Lan giúp bao nhiêu người mỗi tháng?" in texts(mine[1:])
    assert "/traloi 1" in texts(mine[1:]) and head.button("Trả lời") == "/traloi 1"
    await clerk.say("/detcu_ds", replies=2)
    waiting = shown(standin, 2001, "Đang chờ người đề cử trả lời")
    assert "Bà Lan giúp bao nhiêu người mỗi tháng?" in waiting["text"]
    prompt = await head.press(head.button("Trả lời"))
    assert "Gõ câu trả lời" in texts(prompt)
    thanks = await head.say("Khoảng 60 người mỗi tháng.")
    assert "Đã gửi câu trả lời" in texts(thanks)
    await deliver(storage, telegram, clock, small_plan)
    answer = shown(standin, 2001, "Người đề cử đã trả lời")
    assert "Người đề cử đã trả lời: Khoảng 60 người mỗi tháng." in answer["text"]
    await clerk.say("/detcu_ds", replies=2)  # the answer shows in the list as well
    listed_answer = shown(standin, 2001, "Đề cử ĐC-2026-0001 · Chờ xét")
    assert "Người đề cử đã trả lời: Khoảng 60 người mỗi tháng." in listed_answer["text"]

    # "Ghi nhận": into the first stage; the nominator is told.
    clock.advance(minutes=5)
    accepted = await clerk.press("/duyet 1 ghinhan", message=answer)
    assert "Phát hiện" in texts(accepted)
    await deliver(storage, telegram, clock, small_plan)
    assert "đã được ghi nhận, vào giai đoạn Phát hiện" in standin.messages_to(1001)[-1]["text"]

    # The chair moves it forward from the list; the secretariat moves it back, with a reason.
    await chair.say("/detcu_ds", replies=2)
    listed = shown(standin, 2002, "Đề cử ĐC-2026-0001")
    assert [label for label, _data in _buttons(listed)] == ["→ Bồi dưỡng", "Đóng hồ sơ"]
    clock.advance(minutes=5)
    forward = await chair.press("/duyet 1 tiep", message=listed)
    assert "Bồi dưỡng" in texts(forward)
    await clerk.say("/detcu_ds", replies=2)
    listed = shown(standin, 2001, "Đề cử ĐC-2026-0001 · Bồi dưỡng")
    labels = [label for label, _data in _buttons(listed)]
    assert labels == ["→ Tổng kết", "← Phát hiện", "Đóng hồ sơ"]
    clock.advance(minutes=5)
    await clerk.press("/duyet 1 lui", message=listed)
    moved = await clerk.say("Cần xác minh thêm với thôn.")
    assert "Phát hiện" in texts(moved)
    await deliver(storage, telegram, clock, small_plan)
    assert (
        "được chuyển về giai đoạn Phát hiện. Lý do: Cần xác minh thêm với thôn."
        in (standin.messages_to(1001)[-1]["text"])
    )

    async with storage.transaction() as tx:
        history = await tx.nomination_events(1)
    assert [(e.action, e.status, e.person_id) for e in history] == [
        ("sent", "review", head_person.id),
        ("asked", "needs_info", clerk_person.id),
        ("answered", "review", head_person.id),
        ("accepted", "phat_hien", clerk_person.id),
        ("advanced", "boi_duong", chair_person.id),
        ("moved_back", "phat_hien", clerk_person.id),
    ]
    assert history[1].comment == "Bà Lan giúp bao nhiêu người mỗi tháng?"
    assert history[2].comment == "Khoảng 60 người mỗi tháng."
    assert history[5].comment == "Cần xác minh thêm với thôn."
    assert history[3].at < history[4].at < history[5].at


async def test_not_eligible_closes_with_the_reviewers_reason(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    clerk = standin.user(2001, "Chị Thư")
    await nominate(head, "Ông Tư", "Dọn rác đầu ngõ.", photo=False)
    await deliver(storage, telegram, clock, small_plan)
    card = shown(standin, 2001, "Đề cử mới cần xét")
    asked = await clerk.press("/duyet 1 khongdat", message=card)
    assert "Gõ lý do" in texts(asked)
    closed = await clerk.say("Việc làm chưa đủ tiêu biểu.")
    assert "Đã đóng" in texts(closed)
    await deliver(storage, telegram, clock, small_plan)
    assert (
        "chưa đủ điều kiện. Lý do: Việc làm chưa đủ tiêu biểu."
        in (standin.messages_to(1001)[-1]["text"])
    )
    # The same button again changes nothing.
    again = await clerk.press("/duyet 1 khongdat", message=card)
    assert "không còn làm được" in texts(again)


async def test_a_head_sees_only_their_own_and_a_forged_button_changes_nothing(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    await people(storage, clock)
    await register(storage, clock, "Chị Hai", 1002, village="thon_2")
    head = standin.user(1001, "Anh Một")
    other = standin.user(1002, "Chị Hai")
    await nominate(head, "Bà Lan", "Nấu cơm cho bệnh nhân nghèo.", photo=False)
    mine = texts(await head.say("/detcu_ds"))
    assert "ĐC-2026-0001 · Bà Lan (Thôn 2) · Chờ xét" in mine
    theirs = texts(await other.say("/detcu_ds"))
    assert "Bạn chưa gửi đề cử nào" in theirs and "Bà Lan" not in theirs

    forged = {
        **shown(standin, 1002, "Bạn chưa gửi đề cử nào"),
        "reply_markup": {
            "inline_keyboard": [[{"text": "Ghi nhận", "callback_data": "/duyet 1 ghinhan"}]]
        },
    }
    refused = texts(await other.press("/duyet 1 ghinhan", message=forged))
    assert "không có quyền" in refused
    refused = texts(await other.say("/traloi 1"))
    assert "Không có đề cử nào của bạn với số này" in refused
    async with storage.transaction() as tx:
        nomination = await tx.nomination(1)
    assert nomination is not None and nomination.status == "review"


async def test_an_overlong_deed_and_an_oversize_photo_are_refused_clearly(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
) -> None:
    await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    await head.say("/detcu")
    await head.say("Bà Lan")
    await head.press(head.button("Thôn 2"))
    long = texts(await head.say("x" * 1001))
    assert "Dài quá: tối đa 1.000 ký tự, bạn đã gửi 1.001 ký tự" in long
    await head.say("Nấu cơm cho bệnh nhân nghèo.")
    await head.press(head.button("Từ thiện nhân đạo"))
    big = texts(await head.send_photo(file_id="TO", data=b"\xff" * (MAX_FILE_BYTES + 1024**2)))
    assert "Ảnh này lớn quá (11 MB); tối đa 10 MB" in big
    assert [c for c in standin.calls("getFile") if c.params.get("file_id") == "TO"] == []
    summary = await head.press(head.button("Bỏ qua"))
    assert "Ảnh: 0" in texts(summary)


async def test_one_open_draft_at_a_time(
    standin: BotApiStandIn, telegram: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    await head.say("/baocao")
    await head.press(head.last_buttons()[1][1])  # the current period
    await head.say("412")
    busy = await head.say("/detcu")
    assert "Bạn đang làm dở Báo cáo tháng" in texts(busy)
    kept = await head.press(head.button("Làm tiếp"))
    assert "Câu 2/6" in texts(kept)
    await head.say("/detcu")
    fresh = await head.press(head.button("Bỏ, làm việc mới"))
    assert "bước 1/5" in texts(fresh)
    async with storage.transaction() as tx:
        draft = await tx.draft(1)
    assert draft is not None and draft["flow"] == "nomination"


async def seed_history(storage: SqliteStorage, clock: FakeClock) -> None:
    """Three nominations: one sent ten days ago still waiting, one accepted and taken to
    Tổng kết in week 2026-W48, one sent two days ago."""
    head, _clerk, chair = await people(storage, clock)
    now = clock()  # 2026-11-24 10:00 in Vietnam, a Tuesday of W48
    async with storage.transaction() as tx:
        await tx.add_nomination(
            head.id, "Ông Tư", "thon_1", "Dọn rác đầu ngõ.", "Người tốt việc tốt", [],
            2026, now - timedelta(days=10),
        )  # fmt: skip
        lan = await tx.add_nomination(
            head.id, "Bà Nguyễn Thị Lan", "thon_2", "Nấu cơm cho bệnh nhân nghèo",
            "Từ thiện nhân đạo", [], 2026, now - timedelta(days=9),
        )  # fmt: skip
        steps = [("review", "phat_hien", "accepted"), ("phat_hien", "boi_duong", "advanced"),
                 ("boi_duong", "tong_ket", "advanced")]  # fmt: skip
        for day, (before, after, action) in enumerate(steps):
            when = now - timedelta(days=2 - day)  # the last on Tuesday of W48
            assert await tx.change_nomination(lan.id, before, after, chair.id, action, "", when)
        await tx.add_nomination(
            head.id, "Hội phụ nữ thôn 3", "thon_3", "Sửa đường làng.", "Người tốt việc tốt",
            [], 2026, now - timedelta(days=2),
        )  # fmt: skip


async def test_the_digest_and_workbook_show_nominations(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from handlers.digest import digest_text, digest_workbook, read_digest

    await seed_history(storage, clock)
    async with storage.transaction() as tx:
        data = await read_digest(small_plan, tx, clock())
    text = digest_text(small_plan, data)
    assert "Đề cử gương người tốt, việc tốt: 1 mới trong 7 ngày qua." in text
    assert "Theo loại: Người tốt việc tốt: 1" in text
    assert "Theo thôn: Thôn 3: 1" in text
    assert "Chờ xét quá 7 ngày: ĐC-2026-0001" in text
    book = load_workbook(BytesIO(digest_workbook(small_plan, data)))
    rows = [[c.value for c in row] for row in book["Đề cử"].iter_rows()]
    assert rows[0][:3] == ["Số", "Người được đề cử", "Thôn"]
    lan = next(row for row in rows if row[0] == "ĐC-2026-0002")
    assert lan[1:3] == ["Bà Nguyễn Thị Lan", "Thôn 2"] and lan[6] == "Tổng kết"
    history = str(lan[8]).splitlines()
    assert len(history) == 4 and history[0].endswith("Anh Một – Chờ xét")
    assert history[-1] == "24/11/2026 10:00 – Ông Chủ tịch – Tổng kết"


async def test_the_bulletin_presents_the_weeks_summarised_nominations(
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    conversations: Conversations,
) -> None:
    from bot.messages import Incoming
    from bot.plan.periods import parse_period

    await seed_history(storage, clock)
    async with storage.transaction() as tx:
        text = await conversations.desk.bulletin(tx, parse_period("2026-W48"))
        empty = await conversations.desk.bulletin(tx, parse_period("2026-W47"))
    assert text.startswith("Thưa toàn thể bà con nhân dân xã Thử!")
    assert "từ ngày 23 tháng 11 năm 2026 đến ngày 29 tháng 11 năm 2026" in text
    assert "Bà Nguyễn Thị Lan, ở Thôn 2, với việc làm: Nấu cơm cho bệnh nhân nghèo." in text
    assert "Ông Tư" not in text and "Hội phụ nữ" not in text
    assert empty == (
        "Tuần từ ngày 16 tháng 11 năm 2026 đến ngày 22 tháng 11 năm 2026, xã chưa có gương"
        " người tốt, việc tốt mới được tổng kết."
    )
    by_chair = await conversations.handle(
        Incoming("telegram", "2002", "2002", "text", "/bantin", update_key="b1")
    )
    assert by_chair.replies[0].text == text
    by_head = await conversations.handle(
        Incoming("telegram", "1001", "1001", "text", "/bantin", update_key="b2")
    )
    assert "dành cho thường trực" in by_head.replies[0].text


async def test_a_one_tap_review_needs_no_draft_and_a_stale_question_is_not_applied(
    storage: SqliteStorage, clock: FakeClock, conversations: Conversations
) -> None:
    from bot.messages import Incoming

    head, clerk, _chair = await people(storage, clock)
    async with storage.transaction() as tx:
        await tx.add_nomination(head.id, "Bà Lan", "thon_2", "Nấu cơm.", "Khác", [], 2026, clock())

    def said(text: str, key: str) -> Incoming:
        return Incoming("telegram", "2001", "2001", "text", text, update_key=key)

    await conversations.handle(said("/duyet 1 bosung", "r1"))  # about to type a question
    accepted = await conversations.handle(said("/duyet 1 ghinhan", "r2"))  # then accepts
    assert "Phát hiện" in accepted.replies[0].text
    late = await conversations.handle(said("Bà giúp bao nhiêu người?", "r3"))
    assert "đã thay đổi trong lúc đó" in late.replies[0].text
    async with storage.transaction() as tx:
        nomination = await tx.nomination(1)
        assert await tx.draft(clerk.id) is None
    assert nomination is not None and nomination.status == "phat_hien"


async def test_a_photos_caption_stays_with_it_to_the_reviewer(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    await people(storage, clock)
    head = standin.user(1001, "Anh Một")
    await head.say("/detcu")
    await head.say("Bà Nguyễn Thị Lan")
    await head.press(head.button("Thôn 2"))
    await head.say("Bà nấu cơm miễn phí cho bệnh nhân nghèo.")
    await head.press(head.button("Từ thiện nhân đạo"))
    caption = "Bà Lan bên bếp cơm 🍚, sáng 20/11"
    got = await head.send_photo(file_id="ANH2", data=PHOTO, caption=caption)
    assert "Đã nhận ảnh 1/3" in texts(got)
    await head.press(head.button("Xong"))
    await head.press(head.button("Gửi"))
    await deliver(storage, telegram, clock, small_plan)
    async with storage.transaction() as tx:
        [nomination] = await tx.nominations()
    assert nomination.captions == (caption,)
    [sent] = [c for c in standin.calls("sendPhoto") if c.status == 200]
    assert sent.params["chat_id"] == 2001 and sent.params["caption"] == caption
