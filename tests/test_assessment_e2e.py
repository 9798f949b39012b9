"""Self-assessment end to end: a head's /tucham and the secretariat's /tucham_ds, over the
real Telegram channel against the Bot API stand-in and over Zalo against its stand-in, with
the notices going through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.domain import Identity
from bot.messages import Incoming
from bot.plan.model import Plan, check_plan_text
from handlers import scoreboard
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests.button_words import button_words
from tests.conftest import SMALL_PLAN, FakeClock, add_invite, attach
from tests.standin.telegram import BotApiStandIn, SimUser
from tests.standin.zalo import ZaloApiStandIn
from tests.test_zalo import FAST, sent_texts, text_of, z

SCORING = """
scoring:
  criteria:
    - {id: dien, title: Điện lưới, indicator: ty_le_dien, points: 10, zero_at: 80}
    - {id: rac, title: Thu gom rác, indicator: thon_thu_gom_rac, points: 10}
    - {id: dung_han, title: Báo cáo đúng hạn, measure: on_time, points: 15}
    - {id: day_du, title: Báo cáo đầy đủ, measure: completeness, points: 10}
    - id: guong
      title: Gương người tốt, việc tốt
      measure: good_deeds
      points: 10
      per_item: 2.5
  grades:
    - {name: Xuất sắc, at_least: 90, each_at_least: 85, at_most_share: 20}
    - {name: Tốt, at_least: 80, each_at_least: 80}
    - {name: Hoàn thành, at_least: 70, each_at_least: 70}
    - {name: Chưa hoàn thành}
"""


@pytest.fixture(scope="module")
def small_plan() -> Plan:
    """The small test plan with a scoring section of 55 points (every fixture of
    tests/conftest.py that takes the plan takes this one here)."""
    plan, problems = check_plan_text(SMALL_PLAN.read_text(encoding="utf-8") + SCORING)
    assert plan is not None, problems
    return plan


async def file_reports(storage: SqliteStorage, person_id: int, village: str) -> None:
    """January to October 2026 (the ten reports due by 24/11), each sent on the 20th but
    March's, sent on the 28th (late): 9 of 10 on time, 10 of 10 sent; 1.140 of 1.200
    households with electricity and waste collection in the latest (October)."""
    answers = {"tong_ho": "1200", "ho_co_dien": "1140", "thu_gom_rac": True, "loai": "Chưa đạt"}
    async with storage.transaction() as tx:
        for month in range(1, 11):
            sent = datetime(2026, month, 28 if month == 3 else 20, 3, 0, tzinfo=UTC)
            await tx.add_report(village, "thang", f"2026-{month:02d}", answers, person_id, sent)


async def person_id(storage: SqliteStorage, channel: str, user_id: str) -> int:
    async with storage.transaction() as tx:
        person = await tx.person_by_identity(channel, user_id)
    assert person is not None
    return person.id


async def events(storage: SqliteStorage) -> list[str]:
    async with storage.transaction() as tx:
        return [
            e["kind"] for e in await scoreboard.score_events(tx, 2026) if e["kind"] != "computed"
        ]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or m.get("caption") or "") for m in messages)


def button_in(standin: BotApiStandIn, chat: int, label: str) -> tuple[str, dict[str, Any]]:
    """The callback data of the latest button ``label`` the bot sent to ``chat``, and its
    message."""
    for message in reversed(standin.bot_messages(chat)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label:
                    return str(button["callback_data"]), message
    raise AssertionError(f"no button {label!r} sent to {chat}")


async def press_in(user: SimUser, standin: BotApiStandIn, label: str) -> str:
    data, message = button_in(standin, user.chat_id, label)
    return texts(await user.press(data, message=message))


# -- Telegram ---------------------------------------------------------------------------


async def test_on_telegram_a_claim_accepted_one_refused_and_the_agreement(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    outbox: Outbox,
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await add_invite(storage, clock, "CLERK234", None, role="secretariat")
    await add_invite(storage, clock, "CLERK567", None, role="secretariat")
    head = standin.user(101, "An")
    thu = standin.user(201, "Thư")
    tam = standin.user(202, "Tâm")
    await head.say("/start HEAD2345")
    await thu.say("/start CLERK234")
    await tam.say("/start CLERK567")
    await file_reports(storage, await person_id(storage, "telegram", "101"), "thon_1")

    refused = texts(await thu.say("/tucham"))
    assert "Tự chấm điểm do trưởng thôn thực hiện" in refused

    board = texts(await head.say("/tucham"))
    assert "Tự chấm điểm thi đua năm 2026 · Thôn 1" in board
    assert "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10" in board  # 10 × (95 − 80)/(100 − 80)
    assert "Thu gom rác: có → 10/10" in board
    assert "Báo cáo đúng hạn: 9/10 báo cáo → 13,5/15" in board  # 15 × 9/10
    assert "Báo cáo đầy đủ: 10/10 báo cáo → 10/10" in board
    assert "Gương người tốt, việc tốt: 0 gương được ghi nhận → 0/10" in board
    assert "Tổng: 41/55 điểm · Xếp loại: Chưa hoàn thành · Hạng 1/3" in board

    # A claim on electricity, with a photo, accepted by the secretariat.
    await head.press(head.button("Đề nghị chấm lại"))
    value = texts(await head.press(head.button("Điện lưới")))
    assert "Gõ tỷ lệ (%) thôn đề nghị" in value
    assert "Tỷ lệ không thể quá 100 %." in texts(await head.say("120%"))
    priced = texts(await head.say("98 %"))
    assert "Đề nghị: 98 % → 9/10 điểm (đang tính: 7,5/10)." in priced  # 10 × 18/20
    await head.say("Tháng 11 thêm 36 hộ kéo điện, có biên bản nghiệm thu.")
    evidence = b"\xff\xd8\xff\xe0" + b"bien ban" * 40
    summary = texts(await head.send_photo(file_id="EVID1", data=evidence))
    assert "Đã nhận ảnh minh chứng." in summary and "Ảnh minh chứng: có" in summary
    receipt = texts(await head.press(head.button("Gửi")))
    assert "Đã gửi đề nghị số 1: Điện lưới: 98 %." in receipt

    assert await outbox.send_due() >= 2
    notice = texts(thu.messages)
    assert "Đề nghị chấm lại mới cần xét:" in notice
    assert "Đang tính: Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10" in notice
    assert "Thôn đề nghị: 98 % → 9/10" in notice and "có biên bản nghiệm thu" in notice
    assert any("photo" in m for m in thu.messages)  # the evidence came with it
    accepted = await press_in(thu, standin, "Chấp nhận")
    assert "Đã chấp nhận đề nghị số 1 (Thôn 1 · Điện lưới: 98 %)." in accepted
    # The other secretary presses the same claim's button a moment later.
    late = await press_in(tam, standin, "Từ chối")
    assert "Đề nghị số 1 đã được xét trước đó (đã chấp nhận); không có gì thay đổi." in late

    since = len(head.messages)
    assert await outbox.send_due() == 1
    told = texts(head.messages[since:])
    assert "Đề nghị số 1 (Điện lưới: 98 %) đã được chấp nhận." in told
    assert "Điểm tiêu chí: 9/10; tổng điểm tạm tính của Thôn 1: 42,5/55." in told

    # A claim on timeliness without a photo, refused with a comment.
    board = texts(await head.say("/tucham"))
    assert "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10; theo đề nghị đã được chấp nhận" in board
    assert "Tổng: 42,5/55 điểm" in board
    await head.press(head.button("Đề nghị chấm lại"))
    await head.press(head.button("Báo cáo đúng hạn"))
    assert "thôn có 10 báo cáo phải gửi, nên không thể có 11" in texts(await head.say("11"))
    assert "15/15 điểm" in texts(await head.say("10 báo cáo"))
    await head.say("Báo cáo tháng 3 gửi qua giấy ngày 24.")
    await head.press(head.button("Bỏ qua"))
    receipt = texts(await head.press(head.button("Gửi")))
    assert "Đã gửi đề nghị số 2: Báo cáo đúng hạn: 10 báo cáo đúng hạn." in receipt

    await outbox.send_due()
    asked = await press_in(tam, standin, "Từ chối")
    assert "Vì sao không chấp nhận đề nghị số 2" in asked
    done = texts(await tam.say("Sổ văn thư ghi nhận ngày 28/3, quá hạn."))
    assert "Đã không chấp nhận đề nghị số 2" in done
    since = len(head.messages)
    await outbox.send_due()
    told = texts(head.messages[since:])
    assert "Đề nghị số 2 (Báo cáo đúng hạn: 10 báo cáo đúng hạn) chưa được chấp nhận." in told
    assert "Ý kiến của thường trực: Sổ văn thư ghi nhận ngày 28/3, quá hạn." in told

    mine = texts(await head.say("/tucham_ds"))
    assert "Số 1 · Điện lưới: 98 % · đã chấp nhận" in mine
    assert "Số 2 · Báo cáo đúng hạn: 10 báo cáo đúng hạn · chưa được chấp nhận" in mine

    # The head agrees with the board as it now stands.
    await head.say("/tucham")
    agreed = texts(await head.press(head.button("Đồng ý")))
    assert "Đã ghi nhận: Thôn 1 đồng ý với kết quả tự chấm năm 2026 (42,5/55 điểm)." in agreed
    assert await events(storage) == ["claimed", "accepted", "claimed", "refused", "agreed"]
    async with storage.transaction() as tx:
        [first, second] = await scoreboard.claims(tx, 2026)
        stored = await tx.file(first.photo or "")
    assert stored is not None and stored[0] == evidence and second.photo is None
    assert (first.status, second.status, second.comment) == (
        "accepted",
        "refused",
        "Sổ văn thư ghi nhận ngày 28/3, quá hạn.",
    )


async def test_a_board_frozen_mid_claim_and_a_claim_left_pending(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    outbox: Outbox,
    small_plan: Plan,
    conversations: Conversations,
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await add_invite(storage, clock, "CLERK234", None, role="secretariat")
    head = standin.user(101, "An")
    thu = standin.user(201, "Thư")
    await head.say("/start HEAD2345")
    await thu.say("/start CLERK234")
    # A claim waits for review; a second is typed up to its summary.
    await head.say("/tucham")
    await head.press(head.button("Đề nghị chấm lại"))
    await head.press(head.button("Gương người tốt, việc tốt"))
    await head.say("2")
    await head.say("Hai gương được xã khen.")
    await head.press(head.button("Bỏ qua"))
    await head.press(head.button("Gửi"))
    await outbox.send_due()  # the notice to the secretariat (its replies come after it)
    await head.say("/tucham")
    await head.press(head.button("Đề nghị chấm lại"))
    await head.press(head.button("Điện lưới"))
    await head.say("90")
    await head.say("Đã kéo điện.")
    await head.press(head.button("Bỏ qua"))

    # A reviewer's empty comment is asked again (on a channel that can send it).
    await thu.say("/tucham_ds 1 tuchoi")
    async with storage.transaction() as tx:
        outcome = await conversations.apply(
            tx, Incoming("telegram", "201", "201", "text", "   "), clock()
        )
    assert "Ý kiến là bắt buộc" in outcome.replies[0].text
    assert "Vì sao không chấp nhận đề nghị số 1" in outcome.replies[1].text
    await thu.say("/huy")

    async with storage.transaction() as tx:
        await scoreboard.finalize(
            tx,
            small_plan,
            2026,
            date(2026, 11, 24),
            "Hội đồng TĐKT, họp ngày 24/11/2026",
            None,
            clock(),
        )
    frozen = texts(await head.press(head.button("Gửi")))
    assert "Bảng điểm năm 2026 đã được chốt ngày 24/11/2026" in frozen
    board = texts(await head.say("/tucham"))
    assert "Bảng điểm năm 2026 đã được Hội đồng chốt ngày 24/11/2026" in board
    assert "nên không còn tự chấm hay đề nghị chấm lại được" in board
    late = texts(await thu.say("/tucham_ds 1 chapnhan"))
    assert "Bảng điểm năm 2026 đã được Hội đồng chốt, nên đề nghị số 1 không còn xét được" in late
    async with storage.transaction() as tx:
        assert len(await scoreboard.claims(tx, 2026)) == 1


# -- Zalo -------------------------------------------------------------------------------


@pytest.fixture
async def zalo_api() -> AsyncIterator[ZaloApiStandIn]:
    """The Zalo stand-in (as tests/test_zalo.py has it): every request followed Zalo's
    rules and no text the bot sent names a button."""
    api = ZaloApiStandIn()
    api.poll_cap = 0.3
    await api.start()
    yield api
    await api.stop()
    assert api.violations == [], api.violations
    assert button_words(sent_texts(api)) == []


@pytest.fixture
async def zalo(
    zalo_api: ZaloApiStandIn, inbox: Inbox, outbox: Outbox
) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(
        ZaloOptions(token=zalo_api.token, api_url=zalo_api.base_url, poll_timeout=1, limits=FAST),
        inbox,
    )
    attach(channel, inbox, outbox)
    await channel.connect()
    yield channel
    await channel.stop()


async def test_on_zalo_numbered_menus_a_refusal_an_acceptance_and_the_agreement(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    outbox: Outbox,
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await add_invite(storage, clock, "CLERK234", None, role="secretariat")
    head = zalo_api.user(z(7001), "Anh Ba")
    clerk = zalo_api.user(z(7100), "Chị Thư")
    await head.say("HEAD2345")
    await clerk.say("CLERK234")
    await file_reports(storage, await person_id(storage, "zalo", z(7001)), "thon_1")

    board = text_of(await head.say("/tucham"))
    assert "Báo cáo đúng hạn: 9/10 báo cáo → 13,5/15" in board
    assert "1. Đồng ý   2. Đề nghị chấm lại   3. Để sau" in board
    criteria = text_of(await head.say("2"))
    assert "1. Điện lưới\n2. Thu gom rác\n3. Báo cáo đúng hạn" in criteria
    assert "6. Quay lại" in criteria
    value = text_of(await head.say("3"))
    assert "Báo cáo đúng hạn: 9/10 báo cáo → 13,5/15" in value and "gõ “Quay lại”" in value
    assert "Số báo cáo không thể âm." in text_of(await head.say("-1"))
    priced = text_of(await head.say("10"))
    assert "Đề nghị: 10 báo cáo đúng hạn → 15/15 điểm (đang tính: 13,5/15)." in priced
    photo_step = text_of(await head.say("Tháng 3 gửi qua giấy."))
    assert "1. Bỏ qua   2. Quay lại" in photo_step
    summary = text_of(await head.send_photo(b"\xff\xd8\xff\xe0" + b"so van thu" * 30))
    assert "Ảnh minh chứng: có" in summary and "1. Gửi   2. Quay lại   3. Hủy" in summary
    receipt = text_of(await head.say("1"))
    assert "Đã gửi đề nghị số 1: Báo cáo đúng hạn: 10 báo cáo đúng hạn." in receipt

    await outbox.send_due()
    notice = text_of(zalo_api.messages_to(z(7100)))
    assert "Đề nghị chấm lại mới cần xét:" in notice
    assert "Chấp nhận: gõ /tucham_ds 1 chapnhan; Từ chối: gõ /tucham_ds 1 tuchoi" in notice
    listed = text_of(await clerk.say("/tucham_ds", replies=3))  # the list, the card, its photo
    assert "1 đề nghị chấm lại đang chờ xét:" in listed and "Lý do: Tháng 3 gửi qua giấy." in listed
    assert "Zalo không nhận tệp" in listed
    asked = text_of(await clerk.say("/tucham_ds 1 tuchoi"))
    assert "Gõ ý kiến gửi trưởng thôn (bắt buộc)." in asked
    done = text_of(await clerk.say("Sổ văn thư ghi ngày 28/3."))
    assert "Đã không chấp nhận đề nghị số 1" in done
    await outbox.send_due()
    told = text_of(zalo_api.messages_to(z(7001)))
    assert "Ý kiến của thường trực: Sổ văn thư ghi ngày 28/3." in told

    # A good deed the commune recognised, claimed and accepted, then the agreement.
    await head.say("/tucham")
    await head.say("2")
    await head.say("5")  # Gương người tốt, việc tốt
    assert "→ 2,5/10 điểm" in text_of(await head.say("1"))
    await head.say("Ông Tư được xã khen tháng 10.")
    await head.say("1")  # Bỏ qua
    await head.say("1")  # Gửi
    await outbox.send_due()
    assert "Đã chấp nhận đề nghị số 2" in text_of(await clerk.say("/tucham_ds 2 chapnhan"))
    await outbox.send_due()
    told = text_of(zalo_api.messages_to(z(7001)))
    assert "Điểm tiêu chí: 2,5/10; tổng điểm tạm tính của Thôn 1: 43,5/55." in told
    board = text_of(await head.say("/tucham"))
    assert "Tổng: 43,5/55 điểm" in board
    agreed = text_of(await head.say("1"))
    assert "đồng ý với kết quả tự chấm năm 2026 (43,5/55 điểm)" in agreed
    assert await events(storage) == ["claimed", "refused", "claimed", "accepted", "agreed"]


async def test_a_listing_with_several_photos_on_zalo_says_once_that_zalo_takes_no_files(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    conversations: Conversations,
) -> None:
    """Three claims waiting, two with a photo: the listing's photos go with its last card,
    each captioned with its claim, so Zalo's notice comes once, counting both."""
    await add_invite(storage, clock, "CLERK234", None, role="secretariat")
    clerk = zalo_api.user(z(7100), "Chị Thư")
    await clerk.say("CLERK234")
    async with storage.transaction() as tx:
        head = await tx.create_person("Anh Ba", "head", "thon_1", "vi", clock())
        pictures = [
            await tx.store_file(b"\xff\xd8\xff\xe0" + bytes([n]) * 300, "image/jpeg", clock())
            for n in (1, 2)
        ]
        for village, photo in (("thon_1", pictures[0]), ("thon_2", None), ("thon_3", pictures[1])):
            await scoreboard.add_claim(
                tx, small_plan, 2026, village, "dien", Decimal(96), "Đã kéo điện.", photo,
                head.id, clock(),
            )  # fmt: skip
    before = len(zalo_api.messages_to(z(7100)))
    await clerk.say("/tucham_ds", replies=5)  # the list, three cards, one notice
    listed = [str(m.get("text", "")) for m in zalo_api.messages_to(z(7100))[before:]]
    assert listed[0] == "3 đề nghị chấm lại đang chờ xét:"
    assert [t.count("Ảnh minh chứng: có") for t in listed[1:4]] == [1, 0, 1]
    notices = [t for t in listed if "Zalo không nhận tệp" in t]
    assert len(notices) == 1 and "kèm 2 tệp" in notices[0]
    assert listed[-1] == notices[0]  # after the last card

    # The same listing as a channel that takes files gets it: both photos, captioned.
    clerk_id = await person_id(storage, "zalo", z(7100))
    async with storage.transaction() as tx:
        await tx.add_identity(clerk_id, Identity("telegram", "2001", "2001"), clock())
    incoming = Incoming("telegram", "2001", "2001", "text", "/tucham_ds", update_key="ds")
    replies = (await conversations.handle(incoming)).replies
    assert len(replies) == 4 and [bool(r.files) for r in replies] == [False] * 3 + [True]
    assert [f.caption for f in replies[-1].files] == [
        "Ảnh minh chứng của đề nghị số 1",
        "Ảnh minh chứng của đề nghị số 3",
    ]
    assert [f.data[4] for f in replies[-1].files] == [1, 2]


async def test_a_claim_half_typed_survives_a_restart(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan, conversations: Conversations
) -> None:
    """The flow's state is the draft in the database: a new process goes on where the head
    stopped."""
    await add_invite(storage, clock, "HEAD2345", "thon_1")

    async def say(bot: Conversations, text: str) -> str:
        incoming = Incoming("telegram", "301", "301", "text", text)
        return "\n".join(r.text for r in (await bot.handle(incoming)).replies)

    await say(conversations, "/start HEAD2345")
    await say(conversations, "/tucham")
    await say(conversations, "Đề nghị chấm lại")
    await say(conversations, "1")  # Điện lưới
    assert "Đề nghị: 90 % → 5/10 điểm" in await say(conversations, "90")
    restarted = Conversations(small_plan, storage, clock)
    resumed = await say(restarted, "/tieptuc")
    assert "Tiếp tục từ chỗ đã dừng" in resumed and "Gõ lý do" in resumed
    await say(restarted, "Đã kéo điện cho 12 hộ.")
    await say(restarted, "Bỏ qua")
    assert "Đã gửi đề nghị số 1: Điện lưới: 90 %." in await say(restarted, "Gửi")
    async with storage.transaction() as tx:
        [claim] = await scoreboard.claims(tx, 2026)
    assert (claim.village_id, claim.criterion_id, str(claim.value)) == ("thon_1", "dien", "90")
    assert claim.reason == "Đã kéo điện cho 12 hộ."
