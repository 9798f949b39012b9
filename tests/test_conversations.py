"""Registration, roles, commands and reports through ``Conversations`` on a real SQLite file."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bot.messages import Incoming, Reply
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage
from tests import engines
from tests.conftest import FakeClock, add_invite

_update_ids = itertools.count(1)


async def send(
    conversations: Conversations, user: str, text: str, kind: str = "text", name: str = "Anh Ba"
) -> list[Reply]:
    incoming = Incoming(
        channel="telegram",
        user_id=user,
        chat_id=user,
        kind=kind,  # type: ignore[arg-type]
        text=text,
        update_key=str(next(_update_ids)),
        display_name=name,
    )
    return (await conversations.handle(incoming)).replies


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_stranger_only_learns_how_to_get_a_code(conversations: Conversations) -> None:
    for text in ("xin chào", "/baocao", "/huongdan"):
        replies = await send(conversations, "7", text)
        assert "chưa đăng ký" in joined(replies)
        assert "/start" in joined(replies)


async def test_register_with_start_or_code_alone(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ABCD2345", "thon_3")
    replies = await send(conversations, "7", "/start ABCD2345")
    assert "trưởng thôn" in joined(replies) and "Thôn 3" in joined(replies)
    await add_invite(storage, clock, "WXYZ6789", None, role="secretariat")
    replies = await send(conversations, "8", " wxyz-6789 ")
    assert "Văn phòng – Thống kê" in joined(replies)
    async with storage.transaction() as tx:
        people = await tx.people()
    assert [(p.role, p.village_id) for p in people] == [("head", "thon_3"), ("secretariat", None)]


async def test_a_code_works_once_and_expires(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ABCD2345")
    await send(conversations, "7", "/start ABCD2345")
    used = await send(conversations, "8", "/start ABCD2345")
    assert "đã được dùng" in joined(used)
    await add_invite(storage, clock, "EFGH2345", days=7)
    clock.advance(days=7, seconds=1)
    expired = await send(conversations, "9", "EFGH2345")
    assert "hết hạn" in joined(expired)


async def test_five_wrong_codes_lock_for_an_hour_from_the_fifth(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "GOOD2345")
    for attempt in range(1, 5):
        replies = await send(conversations, "66", f"/start BAD{attempt}2345")
        assert f"còn {5 - attempt} lần" in joined(replies)
        clock.advance(minutes=5)
    fifth = await send(conversations, "66", "BAD52345")
    assert "khóa" in joined(fifth)
    clock.advance(minutes=59)
    still = await send(conversations, "66", "/start GOOD2345")  # a valid code, refused
    assert "khóa" in joined(still)
    assert "trưởng thôn" not in joined(still)
    clock.advance(minutes=1, seconds=1)
    ok = await send(conversations, "66", "/start GOOD2345")
    assert "Chào mừng" in joined(ok)


async def test_spread_out_failures_do_not_lock(
    conversations: Conversations, clock: FakeClock
) -> None:
    for attempt in range(6):
        replies = await send(conversations, "67", f"BAD{attempt}2345")
        assert "khóa" not in joined(replies)
        clock.advance(minutes=20)


async def test_head_reports_and_a_second_head_makes_a_new_version(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await add_invite(storage, clock, "DEPU2345")
    await send(conversations, "1", "/start HEAD2345")
    await send(conversations, "2", "/start DEPU2345", name="Chị Tư")

    async def report(user: str, households: str) -> str:
        replies = await send(conversations, user, "/baocao")
        if "Kỳ tháng 10/2026 (trễ hạn)" in [c.label for c in replies[-1].choices]:
            replies = await send(conversations, user, "2")  # the current month
        for answer in (households, "400", "co", "bo qua", "1", "bo qua"):
            replies = await send(conversations, user, answer)
        assert "Tóm tắt" in joined(replies), joined(replies)
        return joined(await send(conversations, user, "Gửi"))

    first = await report("1", "412")
    assert "Đã nhận" in first and "Thôn 1" in first and "tháng 11/2026" in first
    # the deputy corrects it: the summary opens with what was sent
    menu = await send(conversations, "2", "/baocao")
    assert [c.label for c in menu[-1].choices] == [
        "Kỳ tháng 10/2026 (trễ hạn)",
        "Sửa kỳ tháng 11/2026 (đã gửi)",
    ]
    opened = joined(await send(conversations, "2", "2"))
    assert "(phiên bản 1)" in opened and "1. Tổng số hộ: 412 hộ" in opened
    changed = joined(await send(conversations, "2", "1: 420"))
    assert "1. Tổng số hộ: 420 hộ (đã gửi: 412 hộ)" in changed
    second = joined(await send(conversations, "2", "Gửi"))
    assert "phiên bản 2" in second
    async with storage.transaction() as tx:
        latest = await tx.latest_report("thon_1", "thang", "2026-11")
        history = await tx.reports("2026-11", history=True)
    assert latest is not None and latest.version == 2 and latest.answers["tong_ho"] == "420"
    assert [r.answers["tong_ho"] for r in history] == ["412", "420"]
    # the menu now marks the form as sent this period
    menu = await send(conversations, "1", "/baocao")
    assert "đã gửi" in joined(menu) or any("đã gửi" in c.label for c in menu[-1].choices)


async def test_late_period_is_offered_first_unless_before_the_plan(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "/start HEAD2345")
    replies = await send(conversations, "1", "/baocao")
    assert next(c.label for c in replies[-1].choices) == "Kỳ tháng 10/2026 (trễ hạn)"
    cancelled = await send(conversations, "1", "/huy")
    assert "Đã hủy" in joined(cancelled)
    clock.now = clock.now.replace(year=2024, month=1, day=10)
    replies = await send(conversations, "1", "/baocao")
    assert "Câu 1/6" in joined(replies)  # December 2023 is before `starts`: no late offer


async def test_commands_mid_form_never_corrupt_it(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "/start HEAD2345")
    await send(conversations, "1", "/baocao")
    await send(conversations, "1", "2")
    await send(conversations, "1", "412")
    for command in ("/huongdan", "/start", "/khongco", "/baocao", "/ngonngu"):
        replies = await send(conversations, "1", command)
        assert replies
    help_replies = await send(conversations, "1", "/huongdan")
    assert "Câu 2/6" in help_replies[-1].text
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("telegram", "1")
        assert person is not None
        draft = await tx.draft(person.id)
    assert draft is not None and draft["answers"] == {"tong_ho": "412"} and draft["index"] == 1


async def test_cancel_needs_confirmation(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "/start HEAD2345")
    nothing = await send(conversations, "1", "/huy")
    assert "không có việc gì đang làm dở" in joined(nothing)
    await send(conversations, "1", "/baocao")
    await send(conversations, "1", "2")
    asked = await send(conversations, "1", "/cancel")
    assert "Bỏ bản nháp" in joined(asked)
    done = await send(conversations, "1", "1")
    assert "Đã bỏ bản nháp" in joined(done)
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("telegram", "1")
        assert person is not None
        assert await tx.draft(person.id) is None


async def test_other_roles_do_not_report(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "CHAI2345", None, role="chair")
    await send(conversations, "5", "CHAI2345")
    replies = await send(conversations, "5", "/baocao")
    assert "trưởng thôn" in joined(replies)


@pytest.mark.parametrize("command", ["/ngonngu en", "English"])
async def test_language_switch_is_per_person(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock, command: str
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "/start HEAD2345")
    switched = await send(conversations, "1", command)
    assert "English" in joined(switched)
    help_en = await send(conversations, "1", "/help")
    assert "/report" in joined(help_en) and "/baocao" not in joined(help_en)
    assert "Gõ" not in joined(help_en)
    bad = await send(conversations, "1", "/ngonngu fr")
    assert "fr" in joined(bad)
    back = await send(conversations, "1", "/ngonngu vi")
    assert "tiếng Việt" in joined(back)


async def test_digest_for_the_secretariat_not_for_heads(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "SECR2345", None, role="secretariat")
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "9", "SECR2345")
    await send(conversations, "1", "HEAD2345")
    refused = await send(conversations, "1", "/tonghop")
    assert "dành cho thường trực" in joined(refused)
    digest = await send(conversations, "9", "/digest")
    assert "Đã báo cáo: 0/3 thôn" in joined(digest)
    assert "Chưa báo cáo: Thôn 1, Thôn 2, Thôn 3" in joined(digest)


async def test_a_plan_edited_under_an_open_draft_keeps_what_fits_and_says_what_changed(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    from bot.plan.model import check_plan_text
    from tests.conftest import SMALL_PLAN

    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "HEAD2345")
    await send(conversations, "1", "/baocao")
    await send(conversations, "1", "2")  # the current period
    await send(conversations, "1", "412")
    await send(conversations, "1", "400")  # now on "Thu gom rác"
    text = SMALL_PLAN.read_text(encoding="utf-8")
    # The officer removes the electricity question and renames the form.
    start = text.index("      - id: ho_co_dien")
    end = text.index("      - id: thu_gom_rac")
    edited = text[:start] + text[end:]
    edited = edited.replace("title: Báo cáo tháng", "title: Báo cáo hằng tháng")
    edited = edited.replace("    ratio: [ho_co_dien, tong_ho]", "    share_yes: thu_gom_rac")
    plan, problems = check_plan_text(edited)
    assert plan is not None, problems
    after = Conversations(plan, storage, clock)
    told = joined(await send(after, "1", "1"))  # "1" no longer means what the head saw
    assert "Hộ có điện" in told  # what changed is said…
    assert "Thu gom rác" in told or "rác" in told  # …and the screen shown again
    assert "Đã ghi" not in told
    assert "/baocao" in joined(await send(after, "1", "/huongdan"))
    await send(after, "1", "1")  # Có
    await send(after, "1", "bo qua")
    await send(after, "1", "Thôn văn hóa")
    summary = joined(await send(after, "1", "bo qua"))
    assert "Tổng số hộ: 412 hộ" in summary and "Hộ có điện" not in summary
    receipt = joined(await send(after, "1", "1"))
    assert "Đã nhận Báo cáo hằng tháng" in receipt
    async with storage.transaction() as tx:
        [report] = await tx.reports()
    assert report.answers == {
        "tong_ho": "412",
        "thu_gom_rac": True,
        "dien_tich_lua": None,
        "loai": "Thôn văn hóa",
        "ghi_chu": None,
    }


async def test_a_form_gone_from_the_plan_ends_its_draft_and_huy_still_works(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    from bot.plan.model import check_plan_text
    from tests.conftest import SMALL_PLAN

    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "HEAD2345")
    await send(conversations, "1", "/baocao")
    await send(conversations, "1", "2")
    await send(conversations, "1", "412")
    text = SMALL_PLAN.read_text(encoding="utf-8").replace("  - id: thang\n", "  - id: thang_moi\n")
    text = text.replace("title: Báo cáo tháng", "title: Báo cáo tháng mới")
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    after = Conversations(plan, storage, clock)
    cancelled = joined(await send(after, "1", "/huy"))
    assert "Báo cáo tháng" in cancelled and "không còn" in cancelled
    async with storage.transaction() as tx:
        assert await tx.draft(1) is None
    fresh = joined(await send(after, "1", "/baocao"))
    assert "Báo cáo tháng mới" in fresh or "kỳ" in fresh


async def test_a_code_of_the_wrong_shape_counts_as_a_wrong_attempt_and_says_the_shape(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    first = joined(await send(conversations, "66", "/start SAI0XYZ"))
    assert "8 ký tự" in first and "còn 4 lần" in first
    second = joined(await send(conversations, "66", "SAI0XYZ9Q"))
    assert "8 ký tự" in second and "còn 3 lần" in second
    greeting = joined(await send(conversations, "66", "xin chào"))  # not a try at a code
    assert "chưa đăng ký" in greeting and "lần" not in greeting
    async with storage.transaction() as tx:
        failures = await tx.invite_failures_since("telegram", "66", clock() - timedelta(hours=1))
    assert len(failures) == 2


async def test_a_revoked_person_loses_their_unused_link_invites(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    from bot.domain import Invite

    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "HEAD2345")
    async with storage.transaction() as tx:
        [head] = await tx.people()
        for code in ("LINK2345", "LATE2345"):
            await tx.create_invite(
                Invite(
                    code, "head", "thon_1", clock(), clock() + timedelta(days=7), person_id=head.id
                )
            )
        assert await tx.revoke_person(head.id, clock())
        assert (await tx.invite("LINK2345")).voided_at is not None  # type: ignore[union-attr]
        # An invite made for them after the revocation is refused as well.
        await tx.create_invite(
            Invite(
                "NEWW2345",
                "head",
                "thon_1",
                clock(),
                clock() + timedelta(days=7),
                person_id=head.id,
            )
        )
    for code in ("LINK2345", "NEWW2345"):
        refused = joined(await send(conversations, "zalo-1", code))
        assert "không còn hiệu lực" in refused
    async with storage.transaction() as tx:
        assert await tx.people() == []
        assert await tx.person_by_identity("telegram", "zalo-1") is None


async def test_one_code_registers_one_person_when_two_redeem_it_at_once(
    small_plan: object, clock: FakeClock, database_url: str
) -> None:
    """Two processes on one database (two connections) take the same code at the same
    moment: one is registered, the other is told the code is used."""
    import asyncio

    from bot.plan.model import Plan

    assert isinstance(small_plan, Plan)
    stores = [await engines.open_url(database_url), await engines.open_url(database_url)]
    try:
        await add_invite(stores[0], clock, "ONCE2345")
        conversations = [Conversations(small_plan, store, clock) for store in stores]
        replies = await asyncio.gather(
            send(conversations[0], "101", "/start ONCE2345"),
            send(conversations[1], "102", "/start ONCE2345"),
        )
        async with stores[0].transaction() as tx:
            people = await tx.people()
            invite = await tx.invite("ONCE2345")
    finally:
        for store in stores:
            await store.close()
    texts = sorted(joined(r) for r in replies)
    assert len(people) == 1
    assert "Chào mừng" in texts[0] and "đã được dùng" in texts[1]
    assert invite is not None and invite.used_by == people[0].id


async def test_taking_an_invite_is_a_conditional_update(
    storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ONCE2345")
    async with storage.transaction() as tx:
        assert await tx.use_invite("ONCE2345", clock())
        assert not await tx.use_invite("ONCE2345", clock())  # the second taker learns it
        assert not await tx.use_invite("NONE2345", clock())
    await add_invite(storage, clock, "LATE2345", days=1)
    clock.advance(days=1)
    async with storage.transaction() as tx:
        assert not await tx.use_invite("LATE2345", clock())  # expired


async def test_review_and_answer_ids_and_words_from_hostile_typing(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    """``/duyet`` and ``/traloi`` with an id ``int()`` refuses (``²``, 5,000 digits) or SQLite
    cannot hold (20 digits) say the command is wrong; the words typed for a question and its
    answer are kept without control characters, and words with nothing visible are asked
    again."""
    await add_invite(storage, clock, "HEAD2345")
    await add_invite(storage, clock, "SECR2345", None, role="secretariat")
    await send(conversations, "1", "/start HEAD2345")
    await send(conversations, "2", "/start SECR2345")
    for answer in ("/detcu", "Bà Lan", "1", "Nấu cơm.", "1", "Bỏ qua", "Gửi"):
        replies = await send(conversations, "1", answer)
    assert "Đã nhận đề cử số ĐC-2026-0001" in joined(replies)
    for number in ("²", "9" * 20, "9" * 5000, "-1"):
        review = await send(conversations, "2", f"/duyet {number} ghinhan")
        assert "Lệnh không đúng" in joined(review)
        answer = await send(conversations, "1", f"/traloi {number}")
        assert "Không có đề cử nào của bạn với số này." in joined(answer)

    await send(conversations, "2", "/duyet 1 bosung")
    again = await send(conversations, "2", "\u200b\x00\u202e")
    assert "Xin gõ bằng chữ." in joined(again)
    asked = await send(conversations, "2", "Ở\x00 xóm\x1b nào? {0}")
    assert "Chờ bổ sung" in joined(asked)
    question = await send(conversations, "1", "/traloi 1")
    assert "Câu hỏi về đề cử ĐC-2026-0001: Ở xóm nào? {0}" in joined(question)
    assert "Xin gõ bằng chữ." in joined(await send(conversations, "1", "\ufeff\t"))
    answered = await send(conversations, "1", "Xóm\x07 3\r\n%s")
    assert "Đã gửi câu trả lời" in joined(answered)
    async with storage.transaction() as tx:
        events = await tx.nomination_events(1)
        nomination = await tx.nomination(1)
    assert [e.comment for e in events if e.comment] == ["Ở xóm nào? {0}", "Xóm 3\n%s"]
    assert nomination is not None and nomination.status == "review"


async def test_a_display_name_is_cleaned_and_cut_before_it_is_stored(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    """A platform's display name may hold anything: what is stored and shown is one line
    of at most 100 visible characters, and the workbook that lists it still builds."""
    await add_invite(storage, clock, "SECR2345", None, role="secretariat")
    name = "Chị\x01 Thư\u202e " + "ký" * 5_000
    welcome = joined(await send(conversations, "9", "SECR2345", name=name))
    assert len(welcome) < 400 and "\x01" not in welcome and "\u202e" not in welcome
    async with storage.transaction() as tx:
        [person] = await tx.people()
    assert person.name.startswith("Chị Thư") and len(person.name) == 100
    assert person.identities[0].display_name == person.name
    workbook = await conversations.handle(
        Incoming("telegram", "9", "9", "text", "/xuat", update_key="x1", display_name=name)
    )
    assert workbook.replies[0].files[0].data.startswith(b"PK")


@pytest.mark.parametrize(
    ("role", "village", "expected", "absent"),
    [
        ("head", "thon_1", ["/baocao", "/detcu", "/detcu_ds", "/traloi", "/huy"], ["/tonghop"]),
        ("secretariat", None, ["/tonghop", "/xuat", "/duyet", "/bantin", "/traloi"], ["/baocao"]),
        ("chair", None, ["/tonghop", "/duyet", "tiep, dong"], ["/baocao", "ghinhan"]),
    ],
)
async def test_help_lists_what_the_role_may_do_in_its_language(
    conversations: Conversations,
    storage: SqliteStorage,
    clock: FakeClock,
    role: str,
    village: str | None,
    expected: list[str],
    absent: list[str],
) -> None:
    await add_invite(storage, clock, "ROLE2345", village, role=role)
    await send(conversations, "5", "ROLE2345")
    text = joined(await send(conversations, "5", "/huongdan"))
    assert all(word in text for word in expected), text
    assert not any(word in text for word in absent), text
    await send(conversations, "5", "/ngonngu en")
    english = joined(await send(conversations, "5", "/help"))
    english_names = {"/baocao": "/report", "/detcu_ds": "/nominations", "/traloi": "/answer",
                     "/tonghop": "/digest", "/xuat": "/export", "/duyet": "/review"}  # fmt: skip
    for vietnamese, name in english_names.items():
        if vietnamese in expected:
            assert name in english and vietnamese not in english, english


async def test_tieptuc_at_the_cancel_question_goes_on_with_the_form(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    await send(conversations, "1", "HEAD2345")
    await send(conversations, "1", "/baocao")
    await send(conversations, "1", "2")
    await send(conversations, "1", "412")
    asked = joined(await send(conversations, "1", "/huy"))
    assert "Bỏ bản nháp" in asked
    going_on = joined(await send(conversations, "1", "/tieptuc"))
    assert "Câu 2/6" in going_on and "Bỏ bản nháp" not in going_on
    assert "Đã ghi: 400 hộ" in joined(await send(conversations, "1", "400"))
    await send(conversations, "1", "/detcu")  # a report is open: go on with it, or drop it?
    await send(conversations, "1", "/tieptuc")


async def test_the_commune_is_written_in_lower_case_inside_a_sentence(
    conversations: Conversations,
) -> None:
    greeting = joined(await send(conversations, "77", "xin chào"))
    assert "trợ lý thi đua của xã Thử" in greeting
