"""The Zalo channel end to end against a Zalo Bot API stand-in on 127.0.0.1: numbered menus,
registration, a whole report, a nomination, reminders and digests, webhook and polling."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.plan.model import Plan, check_plan_text
from bot.plan.schedule import quiet_until
from bot.ratelimit import Limits
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.jobs import Jobs
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests import engines
from tests.button_words import button_words
from tests.conftest import SMALL_PLAN, FakeClock, add_invite, attach
from tests.standin.zalo import ZaloApiStandIn, zalo_id

PUBLIC = "https://bot.example.vn"  # where Zalo posts the webhook; a proxy forwards it here


def z(n: int) -> str:
    """The Zalo id of simulated person ``n`` (Zalo ids are 20 hexadecimal digits)."""
    return zalo_id(n)


FAST = Limits(chat_burst=100)


def sent_texts(api: ZaloApiStandIn) -> list[str]:
    """Every text the bot sent through the stand-in (messages and photo captions)."""
    return [
        str(call.params.get("text") or call.params.get("caption") or "")
        for call in api.requests
        if call.method in ("sendMessage", "sendPhoto")
    ]


@pytest.fixture
async def zalo_api() -> AsyncIterator[ZaloApiStandIn]:
    """The Zalo stand-in; after the test, every request followed Zalo's rules and no text
    the bot sent names a button (Zalo has none)."""
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


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def outbox(
    storage: SqliteStorage, zalo: ZaloChannel | None, clock: FakeClock, plan: Plan
) -> Outbox:
    return Outbox(
        storage,
        {"zalo": zalo} if zalo is not None else {},
        clock,
        lambda moment: quiet_until(plan.schedule, moment, plan.tz),
    )


async def test_a_head_registers_and_files_a_whole_report_with_numbered_menus(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    head = zalo_api.user(z(7001), "Anh Ba")
    welcome = text_of(await head.say("HEAD2345"))
    assert "Chào mừng Anh Ba" in welcome and "Thôn 1" in welcome
    menu = text_of(await head.say("/baocao"))
    assert "1. Kỳ tháng 10/2026 (trễ hạn)" in menu and "Trả lời" in menu
    first = text_of(await head.say("2"))
    assert "Câu 1/6" in first and "(gõ “Quay lại”)" not in first
    await head.say("412")
    yes_no = text_of(await head.say("400"))
    assert "1. Có   2. Không   3. Quay lại" in yes_no and "Trả lời một số từ 1 đến 3." in yes_no
    decimal = text_of(await head.say("1"))
    assert "gõ “Bỏ qua”" in decimal and "gõ “Quay lại”" in decimal
    await head.say("12,5 ha")
    await head.say("thon van hoa")
    summary = text_of(await head.say("bo qua"))
    assert "1. Gửi   2. Sửa   3. Hủy" in summary
    receipt = text_of(await head.say("1"))
    assert "Đã nhận Báo cáo tháng của Thôn 1, kỳ tháng 11/2026" in receipt
    async with storage.transaction() as tx:
        [report] = await tx.reports()
    assert report.answers["tong_ho"] == "412" and report.answers["thu_gom_rac"] is True
    assert all(len(str(m.get("text", ""))) <= 2000 for m in zalo_api.messages_to(z(7001)))


async def test_a_nomination_with_a_photo_on_zalo(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    head = zalo_api.user(z(7001), "Anh Ba")
    await head.say("HEAD2345")
    await head.say("/detcu")
    villages = text_of(await head.say("Bà Lan"))
    assert "1. Thôn 1\n2. Thôn 2\n3. Thôn 3\n4. Quay lại" in villages
    await head.say("2")
    kinds = text_of(await head.say("Nấu cơm cho bệnh nhân nghèo."))
    assert "2. Từ thiện nhân đạo" in kinds
    await head.say("2")
    photo = b"\xff\xd8\xff\xe0" + b"zalo photo" * 50
    got = text_of(await head.send_photo(photo, caption="Ông Tư quét đường"))
    assert "Đã nhận ảnh 1/3" in got and "1. Xong" in got
    summary = text_of(await head.say("1"))
    assert "Ảnh: 1" in summary
    receipt = text_of(await head.say("1"))
    assert "Đã nhận đề cử số ĐC-2026-0001" in receipt
    async with storage.transaction() as tx:
        [nomination] = await tx.nominations()
        stored = await tx.file(nomination.photos[0])
    assert stored is not None and stored[0] == photo
    assert nomination.captions == ("Ông Tư quét đường",)  # the caption is kept with it

    # The secretariat reviews on Zalo too: the buttons become commands to type.
    await add_invite(storage, clock, "CLERK234", None, role="secretariat")
    clerk = zalo_api.user(z(7100), "Chị Thư")
    await clerk.say("CLERK234")
    await head.say("/detcu")
    await head.say("Ông Tư")
    await head.say("1")
    await head.say("Dọn rác đầu ngõ.")
    await head.say("5")
    await head.say("1")  # Bỏ qua
    await head.say("1")  # Gửi
    await outbox(storage, zalo, clock, small_plan).send_due()
    card = text_of(zalo_api.messages_to(z(7100)))
    assert "Đề cử mới cần xét" in card and "Ghi nhận: gõ /duyet 2 ghinhan" in card
    assert "Zalo không nhận tệp" not in card  # no photo with this one
    accepted = text_of(await clerk.say("/duyet 2 ghinhan"))
    assert "Phát hiện" in accepted


async def test_reminders_and_a_long_digest_go_out_under_2000_characters(
    zalo_api: ZaloApiStandIn,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    from bot.domain import Identity

    villages = ", ".join(f"Thôn Buôn Làng Số {n} Phía Đông Suối" for n in range(1, 121))
    text = SMALL_PLAN.read_text(encoding="utf-8").replace(
        "villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]"
    )
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    sender = outbox(storage, None, clock, plan)
    inbox = Inbox(storage, Conversations(plan, storage, clock), sender, clock)
    channel = ZaloChannel(
        ZaloOptions(token=zalo_api.token, api_url=zalo_api.base_url, poll_timeout=1, limits=FAST),
        inbox,
    )
    attach(channel, inbox, sender)
    await channel.connect()
    try:
        async with storage.transaction() as tx:
            for name, role, village, chat in (
                ("Chị Thư", "secretariat", None, z(8001)),
                ("Anh Ba", "head", plan.villages[0].id, z(8002)),
            ):
                person = await tx.create_person(name, role, village, "vi", clock())
                await tx.add_identity(person.id, Identity("zalo", chat, chat), clock())
            # Every other village reports, so that the 60 others are named in full.
            for other in plan.villages[1::2]:
                await tx.add_report(other.id, "thang", "2026-11", {"tong_ho": "10"}, person.id,
                                    clock())  # fmt: skip
        jobs = Jobs(plan, storage, clock)
        assert len(await jobs.digest_now()) == 1
        clock.now = clock.now.replace(day=25, hour=1)  # the due day, 08:00 in Vietnam
        assert await jobs.remind(clock()) >= 1
        await sender.send_due()
    finally:
        await channel.stop()
    digest = zalo_api.messages_to(z(8001))
    assert len(digest) >= 3 and all(len(m["text"]) <= 2000 for m in digest)
    assert "Zalo không nhận tệp" in digest[-1]["text"]
    joined = text_of(digest)
    for n in (1, 59, 119):
        assert f"Thôn Buôn Làng Số {n} Phía Đông Suối" in joined
    reminder = text_of(zalo_api.messages_to(z(8002)))
    assert "hôm nay" in reminder and "Báo cáo ngay: gõ /baocao thang 2026-11" in reminder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_the_secret_drops_repeats_and_reads_both_bodies(
    zalo_api: ZaloApiStandIn, inbox: Inbox, outbox: Outbox, storage: SqliteStorage
) -> None:
    port = free_port()
    options = ZaloOptions(
        token=zalo_api.token,
        api_url=zalo_api.base_url,
        webhook_url=f"{PUBLIC}/zalo-hook",
        webhook_secret="bi-mat-1234",
        webhook_port=port,
        webhook_listen="127.0.0.1",
        limits=FAST,
    )
    zalo_api.route_webhook(PUBLIC, f"http://127.0.0.1:{port}")
    channel = ZaloChannel(options, inbox)
    attach(channel, inbox, outbox)
    await channel.connect()
    try:
        assert zalo_api.webhook_url == options.webhook_url
        assert zalo_api.webhook_secret == "bi-mat-1234"
        stranger = zalo_api.user(z(7009), "Người lạ")
        event = stranger.text_event("xin chào")
        assert await zalo_api.post_to_webhook(event, secret=None) == 403
        assert await zalo_api.post_to_webhook(event, secret="sai") == 403
        assert await zalo_api.post_to_webhook(event) == 200
        replies = await zalo_api.wait_messages(z(7009), 1, 0)
        assert "Bạn chưa đăng ký" in text_of(replies)
        assert await zalo_api.post_to_webhook(event, wrapped=True) == 200  # the same again
        wrapped = stranger.text_event("xin chào lần nữa")
        assert await zalo_api.post_to_webhook(wrapped, wrapped=True) == 200
        await zalo_api.wait_messages(z(7009), 2, 0)
        assert len(zalo_api.messages_to(z(7009))) == 2  # the repeat was applied once
        unsupported = await stranger.send_unsupported()
        assert "không đọc được tin nhắn này" in text_of(unsupported)
    finally:
        await channel.stop()


async def test_polling_takes_408_as_nothing_new(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel
) -> None:
    await zalo_api.wait_until(
        lambda: sum(1 for c in zalo_api.calls("getUpdates") if c.status == 408) >= 2, timeout=5
    )
    replies = await zalo_api.user(z(7010), "Chị Năm").say("xin chào")
    assert "Bạn chưa đăng ký" in text_of(replies)
    assert zalo_api.calls("deleteWebhook")  # polling removes a webhook first


async def test_zalos_429_backs_off_the_channel_and_counts_toward_the_attempts(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    """Zalo answers 429 "Quota exceeded" with no retry_after: the channel waits 30 s, then
    2 min…, each 429 counting as an attempt, so a message is given up in the end."""
    from bot.domain import Identity
    from bot.messages import Reply

    async with storage.transaction() as tx:
        person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", clock())
        identity = Identity("zalo", z(7011), z(7011))
        await tx.add_identity(person.id, identity, clock())
        for key in ("k1", "k2"):
            await tx.queue_message(key, person.id, identity, "vi", [Reply(key)], clock())
    for _ in range(2):
        zalo_api.fail_next("sendMessage", 429, "Quota exceeded")
    sender = outbox(storage, zalo, clock, small_plan)
    assert await sender.send_due() == 0
    assert await sender.send_due() == 0  # the channel waits: nothing sent meanwhile
    assert len(zalo_api.calls("sendMessage")) == 1
    clock.advance(seconds=29)
    assert await sender.send_due() == 0
    clock.advance(seconds=1)
    assert await sender.send_due() == 0  # a second 429: now 2 minutes
    assert sender.paused_until("zalo") == clock() + timedelta(minutes=2)
    clock.advance(minutes=2)
    assert await sender.send_due() == 2
    assert [m["text"] for m in zalo_api.messages_to(z(7011))] == ["k1", "k2"]
    async with storage.transaction() as tx:
        assert [row["attempts"] for row in await tx.outbox()] == [2, 0]


async def test_zalos_403_is_retried_and_marks_a_person_unreachable_only_after_a_day(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    """Zalo documents 403 as "Internal server error": a message meeting it is tried again,
    and the person is marked unreachable only when deliveries to them kept failing for at
    least a day, three times or more; one success in between starts the count again."""
    from bot.domain import Identity
    from bot.messages import Reply

    async with storage.transaction() as tx:
        person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", clock())
        identity = Identity("zalo", z(7012), z(7012))
        await tx.add_identity(person.id, identity, clock())

    async def queue(key: str) -> None:
        async with storage.transaction() as tx:
            await tx.queue_message(key, person.id, identity, "vi", [Reply(key)], clock())

    sender = outbox(storage, zalo, clock, small_plan)
    await queue("monday")
    zalo_api.fail_next("sendMessage", 403, "Internal server error")
    assert await sender.send_due() == 0
    clock.advance(seconds=30)
    assert await sender.send_due() == 1  # it was Zalo's trouble: delivered on the retry
    async with storage.transaction() as tx:
        found = await tx.person(person.id)
    assert found is not None and found.identities[0].failing_since is None  # counted anew

    await queue("tuesday")
    for _ in range(6):
        zalo_api.fail_next("sendMessage", 403, "Internal server error")
    assert await sender.send_due() == 0
    for wait in (30, 120, 480, 1920):
        clock.advance(seconds=wait)
        await sender.send_due()
    async with storage.transaction() as tx:
        [_monday, tuesday] = await tx.outbox()
        found = await tx.person(person.id)
    assert tuesday["failed_at"] is not None and tuesday["attempts"] == 5  # given up…
    assert found is not None and found.identities[0].unreachable_at is None  # …not a day yet
    clock.advance(hours=24)
    await queue("wednesday")
    assert await sender.send_due() == 1  # the sixth 403, a day after the first: done with
    async with storage.transaction() as tx:
        found = await tx.person(person.id)
        wednesday = (await tx.outbox())[-1]
    assert found is not None and found.identities[0].unreachable_at is not None
    assert wednesday["failed_at"] is not None and "unreachable" in wednesday["last_error"]


async def test_one_person_on_two_channels_gets_reminders_where_they_wrote_last(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan, conversations: Conversations
) -> None:
    from datetime import timedelta

    from bot.domain import Invite
    from bot.messages import Incoming

    def said(channel: str, user: str, text: str, key: str) -> Incoming:
        return Incoming(channel, user, user, "text", text, update_key=key, display_name="Anh Ba")

    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await conversations.handle(said("telegram", "901", "HEAD2345", "t1"))
    async with storage.transaction() as tx:
        [head] = await tx.people()
        link = Invite("LINK2345", "head", "thon_1", clock(), clock() + timedelta(days=7), None,
                      None, person_id=head.id)  # fmt: skip
        await tx.create_invite(link)
    clock.advance(minutes=1)
    welcome = await conversations.handle(said("zalo", z(7001), "LINK2345", "z1"))
    assert "Chào mừng Anh Ba" in welcome.replies[0].text
    async with storage.transaction() as tx:
        [person] = await tx.people()
    assert {(i.channel, i.user_id) for i in person.identities} == {
        ("telegram", "901"),
        ("zalo", z(7001)),
    }
    jobs = Jobs(small_plan, storage, clock)
    clock.now = clock.now.replace(day=25, hour=1)  # the due day, 08:00 in Vietnam
    await jobs.remind(clock())
    clock.advance(hours=2)
    await conversations.handle(said("telegram", "901", "/huongdan", "t2"))  # back on Telegram
    clock.now = clock.now.replace(day=26, hour=1)
    await jobs.remind(clock())
    async with storage.transaction() as tx:
        rows = await tx.outbox("reminder:")
    assert [(row["key"].rsplit(":", 1)[-1], row["channel"]) for row in rows] == [
        ("d+0", "zalo"),
        ("d+1", "telegram"),
    ]


async def test_a_digest_for_someone_on_zalo_sends_its_files_to_their_telegram(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:
    from datetime import timedelta

    from bot.domain import Identity

    async with storage.transaction() as tx:
        clerk = await tx.create_person("Chị Thư", "secretariat", None, "vi", clock())
        await tx.add_identity(clerk.id, Identity("telegram", "2001", "2001"), clock())
        await tx.add_identity(
            clerk.id, Identity("zalo", z(8001), z(8001)), clock() + timedelta(minutes=1)
        )
    assert len(await Jobs(small_plan, storage, clock).digest_now()) == 1
    async with storage.transaction() as tx:
        rows = await tx.outbox("digest-now:")
        later = clock() + timedelta(hours=1)
        due = await tx.claim_messages("test", later, later, ["telegram", "zalo"], 10)
    assert [(row["channel"], row["key"].endswith(":files")) for row in rows] == [
        ("zalo", False),
        ("telegram", True),
    ]
    files = {m.channel: [f.name for r in m.replies for f in r.files] for m in due}
    assert files["telegram"][0].endswith(".xlsx") and files["telegram"][1].endswith(".png")


async def test_the_client_retries_only_what_is_safe_and_says_what_failed(
    zalo_api: ZaloApiStandIn,
) -> None:
    from bot.channels.zalo import ZaloClient, ZaloError

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client = ZaloClient(zalo_api.token, zalo_api.base_url, sleep=sleep)
    try:
        zalo_api.fail_next("getMe", 502, "Bad Gateway")
        me = await client.call("getMe")  # changes nothing: tried again
        assert me["account_name"] == "bot.thidua" and waits == [2.0]
        zalo_api.fail_next("sendMessage", 502, "Bad Gateway")
        with pytest.raises(ZaloError) as failed:  # might have been sent: not repeated
            await client.call("sendMessage", {"chat_id": z(1), "text": "a"})
        assert failed.value.code == 502 and "Bad Gateway" in str(failed.value)
        assert zalo_api.token not in str(failed.value)
        assert len(zalo_api.calls("sendMessage")) == 1
        zalo_api.fail_next("sendMessage", 429, "Too Many Requests")
        await client.call("sendMessage", {"chat_id": z(1), "text": "b"})  # refused: again
        assert [m["text"] for m in zalo_api.messages_to(z(1))] == ["b"]
        with pytest.raises(ZaloError) as refused:
            await client.call("sendMessage", {"chat_id": z(1), "text": "x" * 2001})
        assert refused.value.code == 400
    finally:
        await client.close()
    zalo_api.violations.clear()  # the 2,001 characters were sent on purpose


async def test_a_webhook_zalo_would_refuse_is_refused_before_calling_it(
    zalo_api: ZaloApiStandIn, inbox: Inbox
) -> None:
    from dataclasses import replace

    from bot.app.config import ConfigError

    options = ZaloOptions(
        token=zalo_api.token,
        api_url=zalo_api.base_url,
        webhook_url="https://thidua.example/zalo",
        webhook_secret="bi-mat-1234",
    )
    for secret in (None, "ngan", "x" * 257):
        with pytest.raises(ConfigError, match="ZALO_WEBHOOK_SECRET"):
            ZaloChannel(replace(options, webhook_secret=secret), inbox)
    for url in ("http://thidua.example/zalo", "thidua.example/zalo", "https:///zalo"):
        with pytest.raises(ConfigError, match="HTTPS"):
            ZaloChannel(replace(options, webhook_url=url), inbox)
    assert zalo_api.calls("setWebhook") == []


async def test_nomination_photos_for_a_reviewer_on_zalo_go_to_their_telegram(
    storage: SqliteStorage, clock: FakeClock, conversations: Conversations
) -> None:
    from datetime import timedelta

    from bot.domain import Identity
    from bot.messages import Attachment, Incoming

    async with storage.transaction() as tx:
        clerk = await tx.create_person("Chị Thư", "secretariat", None, "vi", clock())
        await tx.add_identity(clerk.id, Identity("telegram", "2001", "2001"), clock())
        await tx.add_identity(
            clerk.id, Identity("zalo", z(8001), z(8001)), clock() + timedelta(minutes=1)
        )
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    photo = Attachment("zalo-photo", 600, "image/jpeg", b"\xff\xd8" + b"p" * 598)
    steps = ["HEAD2345", "/detcu", "Bà Lan", "Thôn 2", "Nấu cơm.", "Khác", None, "Xong", "Gửi"]
    for number, text in enumerate(steps):
        if text is None:
            incoming = Incoming("zalo", z(7001), z(7001), "photo", update_key=f"p{number}",
                                attachments=(photo,))  # fmt: skip
        else:
            incoming = Incoming("zalo", z(7001), z(7001), "text", text, update_key=f"t{number}")
        outcome = await conversations.handle(incoming)
    assert "ĐC-2026-0001" in outcome.replies[-1].text
    async with storage.transaction() as tx:
        rows = await tx.outbox("nomination:1:new")
        later = clock() + timedelta(hours=1)
        due = await tx.claim_messages("test", later, later, ["telegram", "zalo"], 10)
    assert [(row["channel"], row["key"].endswith(":files")) for row in rows] == [
        ("zalo", False),
        ("telegram", True),
    ]
    telegram = next(m for m in due if m.channel == "telegram")
    assert telegram.replies[0].text == "Ảnh của đề cử ĐC-2026-0001:"
    assert telegram.replies[0].files[0].data == photo.data


async def test_twenty_heads_writing_at_once_lose_nothing_though_zalo_drops_unpolled_events(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    """Zalo drops what arrives while no poll is open (here: not taken within a second, the
    stand-in's network latency; Zalo hands out one event per poll, so a burst of twenty
    waits for twenty round trips). The poller polls again the moment an event comes back,
    never waiting for it to be stored or applied (the test below shows that without a
    clock), so twenty heads filing at once lose nothing."""
    import asyncio
    import random

    zalo_api.drop_after = 1.0
    for n in range(20):
        await add_invite(storage, clock, f"HEAD{n:02d}2Q", "thon_1")
    heads = [zalo_api.user(z(9000 + n), f"Trưởng thôn {n}") for n in range(20)]

    async def file(n: int) -> None:
        pace = random.Random(n)
        head = heads[n]
        for text in (f"HEAD{n:02d}2Q", "/baocao", "2", "412", "400", "1", "12,5"):
            await asyncio.sleep(pace.uniform(0, 0.02))
            await head.say(text, timeout=10)

    await asyncio.gather(*(file(n) for n in range(20)))
    assert zalo_api.dropped == []
    async with storage.transaction() as tx:
        people = await tx.people()
        drafts = await tx.drafts([p.id for p in people])
    assert len(people) == 20
    assert all(d["answers"].get("dien_tich_lua") == "12.5" for d in drafts.values()), drafts


async def test_the_poller_keeps_polling_while_the_database_cannot_store(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel, database_url: str
) -> None:
    """A database locked by another process (a backup, a second program) holds up storing
    and applying, never polling: every event Zalo holds is still taken before it would be
    dropped, and once the lock goes each one is stored and answered."""
    import asyncio

    zalo_api.drop_after = 0.5
    people = [zalo_api.user(z(9200 + n), f"Khách {n}") for n in range(5)]
    async with engines.held(database_url):
        assert await zalo_api.wait_until(lambda: zalo_api.open_polls > 0, 3)
        for person in people:  # five at once: one poll takes one, the rest wait for more polls
            zalo_api.push(person.text_event("xin chào"))
        await asyncio.sleep(0.6)  # past drop_after: an event no poll took is dropped by now
        assert zalo_api.dropped == [] and zalo_api.pending_events() == []
        assert all(zalo_api.messages_to(p.chat_id) == [] for p in people)  # none applied yet
    for person in people:
        [reply] = await zalo_api.wait_messages(person.chat_id, 1, timeout=10)
        assert "chưa đăng ký" in reply["text"]


async def test_polling_starts_though_zalo_says_there_is_no_webhook_to_remove(
    zalo_api: ZaloApiStandIn, inbox: Inbox, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    channel = ZaloChannel(
        ZaloOptions(token=zalo_api.token, api_url=zalo_api.base_url, poll_timeout=1, limits=FAST),
        inbox,
    )
    attach(channel, inbox, outbox)
    await channel.connect()
    try:
        assert [c.status for c in zalo_api.calls("deleteWebhook")] == [404]
        assert "no webhook to remove" in caplog.text
        replies = await zalo_api.user(z(7020), "Chị Năm").say("xin chào")
        assert "Bạn chưa đăng ký" in text_of(replies)
    finally:
        await channel.stop()


async def test_long_texts_are_cut_by_utf16_length_and_stickers_get_a_polite_answer(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
) -> None:
    from bot.channels.base import utf16_length
    from bot.messages import Reply

    emoji = "Thôn 🌾 " * 600  # 4,800 characters, 5,400 UTF-16 units
    parts = zalo.parts([Reply(emoji)])
    assert len(parts) >= 3 and all(utf16_length(p) <= 1900 for p in parts)
    assert "".join(parts).replace(" ", "") == emoji.replace(" ", "")
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    head = zalo_api.user(z(7021), "Anh Ba")
    await head.say("HEAD2345")
    await head.say("/baocao")
    await head.say("2")
    sticker = text_of(await head.send_sticker())
    assert "nhãn dán" in sticker and "Câu 1/6" in sticker


async def test_a_month_like_the_last_takes_a_few_numbered_answers(
    zalo_api: ZaloApiStandIn, storage: SqliteStorage, clock: FakeClock
) -> None:
    """The default plan's 20-question monthly report, three numbers changed from October:
    "Giống kỳ trước" opens the summary with October's answers, each change is one message,
    and the whole report costs at most 8 messages from /baocao to Gửi (7 here: the form,
    "Giống kỳ trước", three changes, Gửi)."""
    from tests.nam_dong import CHANGES, MESSAGE_BUDGET, NOVEMBER, OCTOBER, nam_dong

    plan = nam_dong()
    village = plan.village("Thôn 1")
    assert village is not None
    sender = outbox(storage, None, clock, plan)
    conversations = Conversations(plan, storage, clock)
    inbox = Inbox(storage, conversations, sender, clock)
    channel = ZaloChannel(
        ZaloOptions(token=zalo_api.token, api_url=zalo_api.base_url, poll_timeout=1, limits=FAST),
        inbox,
    )
    attach(channel, inbox, sender)
    await inbox.start()
    await channel.connect()
    try:
        await add_invite(storage, clock, "HEAD2345", village.id)
        head = zalo_api.user(z(7030), "Anh Ba")
        await head.say("HEAD2345")
        async with storage.transaction() as tx:
            person = await tx.person_by_identity("zalo", z(7030))
            assert person is not None
            october = clock() - timedelta(days=30)
            await tx.add_report(village.id, "thang", "2026-10", OCTOBER, person.id, october)

        sent: list[str] = []

        async def say(text: str) -> str:
            sent.append(text)
            return text_of(await head.say(text))

        forms = await say("/baocao")
        assert "1. Báo cáo tháng" in forms and "Trả lời" in forms
        offer = await say("1")
        assert "Thôn đã báo cáo kỳ tháng 10/2026" in offer
        assert "1. Giống kỳ trước" in offer and "2. Trả lời từng câu" in offer
        summary = await say("1")
        assert "Đã điền sẵn các câu trả lời kỳ tháng 10/2026." in summary
        assert "1. Tổng số hộ: 412 hộ" in summary and "20. Ghi chú: (bỏ qua)" in summary
        assert "1. Gửi   2. Sửa   3. Hủy" in summary and "gõ số câu" in summary
        for change in CHANGES:
            summary = await say(change)
            assert "Tóm tắt Báo cáo tháng" in summary, summary
        assert "3. Hộ dùng nước hợp vệ sinh: 405 hộ (kỳ trước: 400 hộ)" in summary
        assert "16. Vụ việc hòa giải: 4 vụ (kỳ trước: 3 vụ)" in summary
        receipt = await say("1")
        assert "Đã nhận Báo cáo tháng của Thôn 1, kỳ tháng 11/2026" in receipt
        assert len(sent) == 7 <= MESSAGE_BUDGET, sent
        async with storage.transaction() as tx:
            report = await tx.latest_report(village.id, "thang", "2026-11")
        assert report is not None and report.version == 1 and report.answers == NOVEMBER
        assert all(len(m["text"]) <= 2000 for m in zalo_api.messages_to(z(7030)))
    finally:
        await channel.stop()
        await inbox.stop()


async def test_english_chosen_mid_form_goes_on_in_english_with_numbered_menus(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    head = zalo_api.user(z(7040), "Anh Ba")
    await head.say("HEAD2345")
    await head.say("/baocao")
    await head.say("2")  # this month
    await head.say("412")
    menu = text_of(await head.say("/ngonngu"))
    assert "gõ “English”" in menu
    switched = await head.say("English", replies=2)
    assert switched[0]["text"] == "Switched to English."
    assert "Question 2/6" in switched[1]["text"]
    yes_no = text_of(await head.say("400"))
    assert "1. Yes   2. No   3. Back" in yes_no
    await head.say("1")
    await head.say("12,5")
    await head.say("1")
    summary = text_of(await head.say("skip"))
    assert "1. Send   2. Edit   3. Cancel" in summary
    receipt = text_of(await head.say("1"))
    assert "Thôn 1" in receipt and "11/2026" in receipt


async def test_web_on_zalo_sends_the_link_and_the_files_note_points_to_the_web_page(
    zalo_api: ZaloApiStandIn,
    zalo: ZaloChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    conversations: Conversations,
    inbox: Inbox,
) -> None:
    from bot.domain import Identity
    from bot.messages import OutgoingFile, Reply
    from web.signin import WebLinks

    async with storage.transaction() as tx:
        clerk = await tx.create_person("Chị Thư", "secretariat", None, "vi", clock())
        await tx.add_identity(clerk.id, Identity("zalo", z(8101), z(8101)), clock())
    chat = zalo_api.user(z(8101), "Chị Thư")
    assert "chưa được bật" in text_of(await chat.say("/web"))
    conversations.web = WebLinks("https://thidua.example.vn")
    said = text_of(await chat.say("/web"))
    assert "https://thidua.example.vn/vao/" in said and "10 phút" in said
    digest = text_of(await chat.say("/tonghop", replies=2))
    assert "https://thidua.example.vn/vao/" in digest
    workbook = text_of(await chat.say("/xuat", replies=3))
    assert "https://thidua.example.vn/vao/" in workbook and "trang web" in workbook
    with_files = Reply("Bản tổng hợp", files=(OutgoingFile("thidua.xlsx", b"PK"),))
    served = ZaloChannel(ZaloOptions(token=zalo_api.token, web_page=True), inbox)
    assert "trang web của thidua (gõ /web)" in served.parts([with_files])[-1]
    assert "thidua export" in zalo.parts([with_files])[-1]  # no web page: the old advice
