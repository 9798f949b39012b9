"""Several real ``thidua run`` processes on one PostgreSQL database, as a commune that
cannot afford the bot to stop, or a province, runs them: an update delivered to two of them
is applied once, one person's messages spread over both are applied in order, the
scheduled jobs run in one of them, the rate limit holds in total, and ``kill -9`` of one in
the middle of a 3,000-reminder fan-out leaves the other to finish it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.domain import Identity
from storage.postgres import PostgresStorage
from tests import engines
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import WEBHOOK_SECRET_HEADER, BotApiStandIn
from tests.test_process import NOW, plan_file, start_bot
from tests.test_process_channels import Run, free_port, texts

SECRET = "s" * 32


@pytest.fixture
async def pg_url(postgres_server: str) -> AsyncIterator[str]:
    async with engines.postgres_schema(postgres_server) as url:
        store = await PostgresStorage.open(url)  # migrated before the instances start
        await store.close()
        yield url


async def polling(tmp_path: Path, api: BotApiStandIn, **env: str) -> Run:
    """A ``thidua run`` polling ``api`` (a stand-in of its own), once it polls."""
    api.mark = len(api.requests)  # type: ignore[attr-defined]
    return Run(await start_bot(tmp_path, api, **env))


async def register(url: str, people: list[tuple[str, str, str | None, str]]) -> None:
    """(name, role, village, Telegram user id) registered straight in the database."""
    store = await PostgresStorage.open(url)
    try:
        async with store.transaction() as tx:
            for name, role, village, user in people:
                person = await tx.create_person(name, role, village, "vi", NOW)
                await tx.add_identity(person.id, Identity("telegram", user, user), NOW)
    finally:
        await store.close()


class Balancer:
    """What stands in front of the instances (a load balancer, as Telegram sees one URL):
    forwards each webhook POST to the next instance in turn, or, with ``both``, to every
    instance (an update delivered twice), answering with the first one's status."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.both = False
        self.turn = 0
        self.port = free_port()
        self.forwarded: list[tuple[int, int]] = []  # (instance port, its status)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            "Content-Type": request.headers.get("Content-Type", "application/json"),
            WEBHOOK_SECRET_HEADER: request.headers.get(WEBHOOK_SECRET_HEADER, ""),
        }
        if self.both:
            targets = self.ports
        else:
            targets = [self.ports[self.turn % len(self.ports)]]
            self.turn += 1
        statuses = []
        for port in targets:
            url = f"http://127.0.0.1:{port}{request.path}"
            async with self._session.post(url, data=body, headers=headers) as answer:
                statuses.append(answer.status)
                self.forwarded.append((port, answer.status))
        return web.Response(status=statuses[0])

    async def __aenter__(self) -> Balancer:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


def webhook_env(url: str, standin: BotApiStandIn, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.base_url,
        "TELEGRAM_RATE_LIMIT": "0",
        "THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg-hook",
        "THIDUA_WEBHOOK_SECRET": SECRET,
        "THIDUA_WEBHOOK_PORT": str(port),
        "THIDUA_WEBHOOK_LISTEN": "127.0.0.1",
        "THIDUA_LOG_LEVEL": "INFO",
    }


async def test_an_update_sent_to_both_is_applied_once_and_a_persons_messages_in_order(
    tmp_path: Path, pg_url: str, standin: BotApiStandIn
) -> None:
    await register(pg_url, [("Anh Một", "head", "thon_1", "1001")])
    ports = [free_port(), free_port()]
    async with Balancer(ports) as balancer:
        standin.route_webhook("https://bot.example.vn", f"http://127.0.0.1:{balancer.port}")
        first = await Run.spawn(tmp_path, **webhook_env(pg_url, standin, ports[0]))
        await first.wait_line("telegram: webhook on port")
        second = await Run.spawn(tmp_path, **webhook_env(pg_url, standin, ports[1]))
        head = standin.user(1001, "Anh Một")
        try:
            await second.wait_line("telegram: webhook on port")
            # Delivered to both instances: both store it (200), one applies it.
            balancer.both = True
            [answer] = await head.say("/huongdan", timeout=10)
            assert "/baocao" in answer["text"]
            await asyncio.sleep(1.0)  # a second reply would have come by now
            assert len(standin.messages_to(1001)) == 1
            assert sorted(status for _port, status in balancer.forwarded) == [200, 200]
            assert {port for port, _status in balancer.forwarded} == set(ports)

            # Alternately to each: every answer typed at once, without waiting for replies.
            balancer.both = False
            await head.say("/baocao", timeout=10)
            await head.press(head.last_buttons()[1][1], timeout=10)  # the current period
            before = len(standin.messages_to(1001))
            answers = ("412", "400", "có", "12,5", "thon van hoa", "Không có gì thêm")
            for text in answers:
                await head.say(text, replies=0)
            got = await standin.wait_messages(1001, len(answers), before, timeout=20)
            replies = [m["text"] for m in got]
            assert "412" in replies[0] and "Câu 2/6" in replies[0], replies
            assert "400" in replies[1] and "Câu 3/6" in replies[1], replies
            assert "Câu 4/6" in replies[2] and "12,5" in replies[3], replies
            assert "Tóm tắt" in replies[-1], replies
            receipt = await head.press(head.button("Gửi"), timeout=10)
            assert "Đã nhận" in texts(receipt)
            await asyncio.sleep(0.5)
        finally:
            codes = [await first.stop(), await second.stop()]
    assert codes == [0, 0], first.log + second.log
    ports_used = [port for port, _status in balancer.forwarded]
    assert ports_used.count(ports[0]) >= 4 and ports_used.count(ports[1]) >= 4
    rows = await engines.fetch(
        pg_url,
        "SELECT a.question_id, a.value FROM answers a JOIN reports r ON r.id = a.report_id"
        " ORDER BY a.position",
    )
    stored = {question: json.loads(str(value)) for question, value in rows}
    assert [stored[q] for q in ("tong_ho", "ho_co_dien", "dien_tich_lua", "loai")] == [
        "412",
        "400",
        "12.5",
        "Thôn văn hóa",
    ], stored
    assert stored["thu_gom_rac"] in (True, "yes"), stored
    assert await engines.fetch(pg_url, "SELECT COUNT(*) FROM inbox WHERE applied_at IS NULL") == [
        (0,)
    ]
    assert "Traceback" not in first.log + second.log
    assert standin.pending_updates() == []


def busiest_second(times: list[float]) -> int:
    """The most messages in any sliding second."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def fan_out_plan(tmp_path: Path, heads: int, digest: bool) -> Path:
    """The small plan with ``heads`` villages, the monthly report due today and the day's
    reminder (and, with ``digest``, the weekly digest) two minutes before NOW."""
    occasion = NOW - timedelta(minutes=2)
    villages = ", ".join(f"Thôn {n}" for n in range(1, heads + 1))
    text = (
        SMALL_PLAN.read_text(encoding="utf-8")
        .replace("villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]")
        .replace("due: 25", f"due: {occasion.day}")
    )
    weekly = f'"{occasion:%A} {occasion:%H:%M}"'.lower() if digest else "false"
    return plan_file(
        tmp_path,
        f'  reminders: [0]\n  reminder_time: "{occasion:%H:%M}"\n'
        f"  digest: {weekly}\n  quiet_hours: false\n",
        text,
    )


async def test_jobs_run_once_across_instances_and_the_rate_holds_in_total(
    tmp_path: Path, pg_url: str
) -> None:
    """Two instances start after the day's reminder time and the weekly digest's: one of
    them (the lead) catches both up, every head reminded once and the secretary sent one
    digest; both send (each through a stand-in of its own, the same token), and together
    they keep TELEGRAM_RATE_LIMIT: no sliding second holds more than rate + 2 (a process alone
    keeps rate + 1; two processes' timers are late independently)."""
    heads = 90
    rate = 10
    await register(
        pg_url,
        [(f"Trưởng thôn {n}", "head", f"thon_{n}", str(5000 + n)) for n in range(1, heads + 1)]
        + [("Chị Thư Ký", "secretariat", None, "4000")],
    )
    plan = fan_out_plan(tmp_path, heads, digest=True)
    env = {"DATABASE_URL": pg_url, "PLAN_FILE": str(plan), "THIDUA_LOG_LEVEL": "INFO"}
    chats = [5000 + n for n in range(1, heads + 1)]
    async with BotApiStandIn() as one, BotApiStandIn() as two:
        first = await polling(tmp_path, one, TELEGRAM_RATE_LIMIT=str(rate), **env)
        second = await polling(tmp_path, two, TELEGRAM_RATE_LIMIT=str(rate), **env)
        try:
            done = await one.wait_until(
                lambda: (
                    all(one.messages_to(c) or two.messages_to(c) for c in chats)
                    and bool(one.messages_to(4000) or two.messages_to(4000))
                ),
                timeout=40,
            )
            assert done, first.log[-2000:] + second.log[-2000:]
            await asyncio.sleep(1.0)  # anything more would come now
        finally:
            codes = [await first.stop(), await second.stop()]
        assert codes == [0, 0]
        counts = [len(one.messages_to(c)) + len(two.messages_to(c)) for c in chats]
        assert set(counts) == {1}, counts
        digests = one.messages_to(4000) + two.messages_to(4000)
        assert len([m for m in digests if "TỔNG HỢP THI ĐUA" in texts([m])]) == 1, texts(digests)
        leads = [run for run in (first, second) if "runs the scheduled jobs" in run.log]
        assert len(leads) == 1
        sent = one.sent_times() + two.sent_times()
        assert one.sent_times() and two.sent_times()  # both instances sent
        # each process's timers run late by their own few milliseconds: one turn more than
        # a single process's rate + 1; paced apart, the two would have made about 2 × rate
        assert busiest_second(sent) <= rate + 2, busiest_second(sent)
        assert one.violations == [] and two.violations == []
    assert "Traceback" not in first.log + second.log


async def test_kill_9_of_one_instance_mid_fan_out_the_other_finishes_it(
    tmp_path: Path, pg_url: str
) -> None:
    """3,000 heads reminded by two instances at once; the one leading the jobs is killed
    with SIGKILL once a third have gone. The other takes the dead sender's claims (void once
    its heartbeat has stopped for 20 s) and sends the rest: nobody missed, every reminder
    noted sent, and one twice only where the killed one had sent it without noting it yet
    (it sends at most 8 at once)."""
    heads = 3000
    await register(
        pg_url,
        [(f"Trưởng thôn {n}", "head", f"thon_{n}", str(10_000 + n)) for n in range(1, heads + 1)],
    )
    plan = fan_out_plan(tmp_path, heads, digest=False)
    env = {"DATABASE_URL": pg_url, "PLAN_FILE": str(plan), "THIDUA_LOG_LEVEL": "INFO"}
    chats = [10_000 + n for n in range(1, heads + 1)]
    async with BotApiStandIn() as one, BotApiStandIn() as two:
        first = await polling(tmp_path, one, TELEGRAM_RATE_LIMIT="0", **env)
        await first.wait_line("runs the scheduled jobs", timeout=20)
        second = await polling(tmp_path, two, TELEGRAM_RATE_LIMIT="0", **env)
        try:
            reached = await one.wait_until(
                lambda: len(one.sent_times()) + len(two.sent_times()) >= heads // 3, timeout=60
            )
            assert reached, first.log[-2000:]
        finally:
            await first.kill()
        by_first = len(one.sent_times())
        try:
            # every reminder noted sent: those the killed one had in flight (sent, not yet
            # noted) go out again once its heartbeat has stopped for ALIVE_FOR
            noted = 0
            for _ in range(900):
                [(noted,)] = await engines.fetch(pg_url, "SELECT COUNT(sent_at) FROM outbox")
                if noted == heads:
                    break
                await asyncio.sleep(0.1)
            assert noted == heads, second.log[-3000:]
            # and the jobs' lead passed to the one left (it tries every 15 s)
            await second.wait_line("runs the scheduled jobs", timeout=20)
            await asyncio.sleep(0.5)
        finally:
            code = await second.stop()
        assert code == 0, second.log[-3000:]
        assert len(one.sent_times()) == by_first  # nothing from the dead one after the kill
        counts = [len(one.messages_to(c)) + len(two.messages_to(c)) for c in chats]
        assert 0 not in counts  # nobody missed
        assert set(counts) <= {1, 2} and counts.count(2) <= 8, counts.count(2)
    rows = await engines.fetch(pg_url, "SELECT COUNT(*), COUNT(sent_at) FROM outbox")
    assert rows == [(heads, heads)]
    assert "Traceback" not in second.log


async def test_two_instances_started_at_once_on_an_empty_database_migrate_it_once(
    tmp_path: Path, postgres_server: str
) -> None:
    """Both processes find no schema and start migrating at the same moment: the migration
    lock lets one apply every migration while the other waits; both then serve."""
    async with (
        engines.postgres_schema(postgres_server) as url,
        BotApiStandIn() as one,
        BotApiStandIn() as two,
    ):
        env = {"DATABASE_URL": url, "THIDUA_LOG_LEVEL": "INFO"}
        first, second = await asyncio.gather(polling(tmp_path, one, **env),
                                             polling(tmp_path, two, **env))  # fmt: skip
        try:
            versions = await engines.fetch(url, "SELECT version FROM schema_version")
            assert sorted(versions) == [(7,), (8,), (9,)]  # each migration once
        finally:
            codes = [await first.stop(), await second.stop()]
        assert codes == [0, 0], first.log + second.log
        assert "Traceback" not in first.log + second.log
