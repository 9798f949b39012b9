"""The one place that wires configuration, plan, storage, engine and channels together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg

from bot.app.config import ConfigError, Settings
from bot.channels.base import Channel, ChannelDown
from bot.clock import Clock, system_clock
from bot.i18n import _
from bot.plan.model import Plan, load_plan
from bot.plan.schedule import quiet_until
from bot.ratelimit import Pacer
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.jobs import Jobs, Scheduler
from scheduler.outbox import Outbox
from storage.postgres import PostgresStorage, is_postgres_url
from storage.repository import Lead, SchemaTooNew, Storage
from storage.sqlite import SqliteStorage, sqlite_path
from web.signin import WebLinks

if TYPE_CHECKING:
    from web.server import WebPage

log = logging.getLogger("thidua")


class RedactSecrets(logging.Filter):
    """Replace tokens and secrets in every log line, whatever logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.exc_text, record.exc_info = text, None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # httpx logs every request URL, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


async def open_storage(settings: Settings) -> Storage:
    """The storage DATABASE_URL names, migrated: a SQLite file (``sqlite:///…``) or a
    PostgreSQL database (``postgresql://…``, this commune's rows under THIDUA_COMMUNE)."""
    url = settings.database_url
    where = url.split("@")[-1]  # never the password
    try:
        if is_postgres_url(url):
            try:
                return await PostgresStorage.open(url, settings.commune)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                raise ConfigError(
                    _(
                        "Không mở được cơ sở dữ liệu PostgreSQL {url}: {error}. Hãy kiểm tra "
                        "máy chủ, tên cơ sở dữ liệu, người dùng và mật khẩu trong DATABASE_URL."
                    ).format(url=where, error=error)
                ) from None
        try:
            path = sqlite_path(url)
        except ValueError:
            raise ConfigError(
                _(
                    "DATABASE_URL “{url}” chưa dùng được: hãy dùng SQLite, ví dụ "
                    "sqlite:///thidua.db (tương đối) hoặc sqlite:////var/lib/thidua/thidua.db, "
                    "hoặc PostgreSQL, ví dụ postgresql://thidua@localhost/thidua."
                ).format(url=where)
            ) from None
        return await SqliteStorage.open(path)
    except SchemaTooNew as error:
        raise ConfigError(
            _(
                "Cơ sở dữ liệu {path} đã được một phiên bản thidua mới hơn nâng cấp (lược đồ "
                "{stored}, bản này chỉ biết đến {known}): hãy cài bản thidua mới. Cơ sở dữ "
                "liệu vẫn giữ nguyên."
            ).format(path=where, stored=error.stored, known=error.known)
        ) from None


LEAD_CHECK = 15.0  # seconds between two looks at the scheduled jobs' lead
HEARTBEAT = 4.0  # seconds between two "this sender is alive"
ALIVE_FOR = timedelta(seconds=20)  # how long each of them holds
RECONNECT = (1, 2, 5, 10, 30, 60, 120, 300)  # seconds between tries to reach a platform
FIRST_TRY = 10.0  # seconds start-up waits for each platform's first answer


@dataclass
class App:
    settings: Settings
    plan: Plan
    storage: Storage
    conversations: Conversations
    clock: Clock
    outbox: Outbox
    inbox: Inbox
    channels: list[Channel] = field(default_factory=list)
    scheduler: Scheduler | None = None
    sender: asyncio.Task[None] | None = None
    lead: Lead | None = None  # the scheduled jobs' lead among the instances
    leading: asyncio.Task[None] | None = None
    beating: asyncio.Task[None] | None = None  # this sender's heartbeat
    connecting: list[asyncio.Task[None]] = field(default_factory=list)
    fatal: str | None = None  # a configuration error a channel met while connecting
    web: WebPage | None = None  # the web page, once served
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def web_links(self) -> WebLinks | None:
        address = self.settings.web_address
        return WebLinks(address) if address is not None else None

    async def start_web(self) -> None:
        """Serve the web page on THIDUA_WEB_PORT (unless it is off); the links ``/web`` and
        the digests send point to THIDUA_WEB_URL."""
        links = self.web_links
        if links is None or self.settings.web_port is None:
            return
        from web.server import WebPage

        self.conversations.web = links
        page = WebPage(self.plan, self.storage, self.clock, links, self.conversations.desk)
        await page.start(self.settings.web_listen, self.settings.web_port)
        self.web = page
        if self.settings.web_url is None:
            log.warning(
                "THIDUA_WEB_URL is not set: the web page's links point to %s, which only "
                "this machine opens",
                links.base,
            )

    def add_channel(self, channel: Channel) -> None:
        """Send through ``channel`` (once it is connected) and fetch its attachments."""
        self.channels.append(channel)
        self.outbox.channels[channel.name] = channel
        self.inbox.channels[channel.name] = channel
        pacer = getattr(channel, "pacer", None)
        if isinstance(pacer, Pacer):  # the rate holds in total across the instances
            pacer.shared = self.storage.pace(channel.name)

    async def start_background(self) -> None:
        """The outbox's sender loop and the scheduled jobs (reminders, weekly digest)."""
        self.conversations.queued = self.outbox.wake  # nominations queue notices as they happen
        await self._alive()
        self.beating = asyncio.create_task(self._heartbeat(), name="sender-alive")
        await self.storage.on_queued(self.outbox.wake)
        await self.outbox.start()
        self.sender = asyncio.create_task(self.outbox.run(), name="outbox")
        self.lead = self.storage.lead("jobs")
        if await self.lead.take():  # the jobs start now, as they always did alone
            await self._start_jobs()
        self.leading = asyncio.create_task(self._keep_the_lead(), name="jobs-lead")

    async def _alive(self) -> None:
        await self.storage.beat(self.outbox.owner, self.clock() + ALIVE_FOR)

    async def _heartbeat(self) -> None:
        """Say every HEARTBEAT that this sender is alive for ALIVE_FOR more: killed, its
        outbox claims are void for the other instances within ALIVE_FOR."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._alive()
            except Exception:
                log.exception("saying this sender is alive")

    async def _start_jobs(self) -> None:
        log.info("this instance runs the scheduled jobs")
        jobs = Jobs(self.plan, self.storage, self.clock, self.outbox.wake, self.web_links)
        self.scheduler = Scheduler(jobs)
        await self.scheduler.start()

    async def _keep_the_lead(self) -> None:
        """The scheduled jobs run in one instance at a time: the one holding the lead. The
        others try to take it every LEAD_CHECK seconds, so one of them starts the jobs
        (catching up what was missed, each message once by its key) within that time of
        the leader's end; a leader that lost the lead (its connection to the database gone)
        stops its jobs."""
        assert self.lead is not None
        while True:
            await asyncio.sleep(LEAD_CHECK)
            try:
                if self.scheduler is not None:
                    if not await self.lead.held():
                        log.warning("the scheduled jobs' lead was lost; their jobs stop here")
                        self.scheduler.stop()
                        self.scheduler = None
                elif await self.lead.take():
                    await self._start_jobs()
            except Exception:
                log.exception("keeping the scheduled jobs' lead")

    def connect(self, channel: Channel) -> asyncio.Event:
        """Reach ``channel``'s platform in the background, trying again with growing pauses
        for as long as it cannot be reached; a configuration error stops the bot. The event
        is set once the first try is over, whatever its outcome."""
        tried = asyncio.Event()
        self.connecting.append(
            asyncio.create_task(self._keep_trying(channel, tried), name=f"connect-{channel.name}")
        )
        return tried

    async def _keep_trying(self, channel: Channel, tried: asyncio.Event) -> None:
        for attempt in itertools.count():
            if attempt:
                tried.set()
            try:
                await channel.connect()
            except ConfigError as error:
                self.fatal = str(error)
                self.stopping.set()
                tried.set()
                return
            except ChannelDown as error:
                pause = RECONNECT[min(attempt, len(RECONNECT) - 1)]
                if attempt == 0:
                    log.warning(
                        "%s cannot be reached (%s); trying again in the background, the "
                        "other channels go on",
                        channel.name,
                        error,
                    )
                else:
                    log.debug("%s still cannot be reached (%s)", channel.name, error)
                await asyncio.sleep(pause)
                continue
            except Exception:
                pause = RECONNECT[min(attempt, len(RECONNECT) - 1)]
                log.exception("%s could not start; trying again in %s s", channel.name, pause)
                await asyncio.sleep(pause)
                continue
            if attempt:
                log.info("%s is connected", channel.name)
            username = getattr(channel, "username", None)
            if username:
                async with self.storage.transaction() as tx:
                    await tx.set_meta("telegram_username", username)
            self.outbox.wake()  # what waited for this channel goes out now
            tried.set()
            return

    async def close(self) -> None:
        for task in self.connecting:
            task.cancel()
        if self.connecting:
            await asyncio.gather(*self.connecting, return_exceptions=True)
        for task in (self.leading, self.beating):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.lead is not None:
            await self.lead.release()
        if self.web is not None:
            await self.web.stop()
        await self.inbox.stop()
        await self.outbox.flush()
        if self.sender is not None:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender
        if self.beating is not None:  # its claims go back for the other instances
            with contextlib.suppress(Exception):
                async with self.storage.transaction() as tx:
                    await tx.sender_gone(self.outbox.owner)
        for channel in reversed(self.channels):
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping %s", getattr(channel, "name", channel))
        await self.storage.close()


async def build(settings: Settings, clock: Clock = system_clock) -> App:
    """Load the plan (raises ``PlanError``) and open storage; no channel yet."""
    plan = load_plan(settings.plan_file)
    storage = await open_storage(settings)
    conversations = Conversations(plan, storage, clock)
    outbox = Outbox(storage, {}, clock, lambda moment: quiet_until(plan.schedule, moment, plan.tz))
    inbox = Inbox(storage, conversations, outbox, clock)
    return App(settings, plan, storage, conversations, clock, outbox, inbox)


def telegram_channel(app: App) -> Channel:
    from bot.channels.telegram import TelegramChannel, TelegramOptions

    s = app.settings
    assert s.telegram_token
    options = TelegramOptions(
        token=s.telegram_token,
        api_url=s.telegram_api_url,
        file_api_url=s.telegram_file_api_url,
        webhook_url=s.webhook_url,
        webhook_secret=s.webhook_secret,
        webhook_port=s.webhook_port,
        webhook_listen=s.webhook_listen,
        rate_limit=s.telegram_rate_limit,
    )
    return TelegramChannel(options, app.inbox, app.plan.tz)


def zalo_channel(app: App) -> Channel:
    from bot.channels.zalo import ZaloChannel, ZaloOptions

    s = app.settings
    assert s.zalo_token
    options = ZaloOptions(
        token=s.zalo_token,
        api_url=s.zalo_api_url,
        webhook_url=s.zalo_webhook_url,
        webhook_secret=s.zalo_webhook_secret,
        webhook_port=s.zalo_webhook_port,
        webhook_listen=s.zalo_webhook_listen,
        rate_limit=s.zalo_rate_limit,
        web_page=s.web_address is not None,
    )
    return ZaloChannel(options, app.inbox)


async def _until_stopped(app: App, work: Coroutine[Any, Any, None]) -> bool:
    """Run ``work`` unless the bot is told to stop first; whether it ran to its end."""
    task = asyncio.create_task(work)
    stop = asyncio.create_task(app.stopping.wait())
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


def _on_standby(holder: str) -> None:
    log.warning(
        "another thidua run (%s) is serving this database: this one waits on standby and "
        "takes over when that one stops",
        holder,
    )


async def serve(app: App) -> None:
    """Start every configured channel and run until SIGINT/SIGTERM. A channel that cannot
    be reached is tried again in the background while the others work; a configuration
    error (a refused token, a webhook without its secret) raises ``ConfigError``."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, app.stopping.set)
    try:
        await _serving(app)
    finally:
        await app.close()
    if app.fatal is not None:
        raise ConfigError(app.fatal)


async def _serving(app: App) -> None:
    # Built first: a webhook without its secret stops everything before anything runs.
    channels = []
    if app.settings.zalo_token:
        channels.append(zalo_channel(app))
    if app.settings.telegram_token:
        channels.append(telegram_channel(app))
    if not await _until_stopped(app, app.storage.serve_alone(app.outbox.owner, _on_standby)):
        return  # stopped while on standby
    await Jobs(app.plan, app.storage, app.clock).housekeeping()
    await app.start_web()
    for channel in channels:
        app.add_channel(channel)
    await app.inbox.start()  # what arrived before a crash is applied first
    tries = [app.connect(channel) for channel in channels]
    # A refused token stops the bot before it runs anything else; a platform that does not
    # answer within FIRST_TRY holds up nothing more (it is tried in the background).
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(t.wait() for t in tries)), FIRST_TRY)
    if app.stopping.is_set():
        return
    # What start-up built lives as long as the process: keep it out of the garbage
    # collector's full passes, whose pauses would otherwise stall sending.
    gc.collect()
    gc.freeze()
    await app.start_background()
    log.info("thidua is running (%s); Ctrl-C stops it", ", ".join(c.name for c in channels))
    await app.stopping.wait()
