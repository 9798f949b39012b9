"""The one place that wires configuration, plan, storage, engine and channels together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels.base import Channel
from bot.clock import Clock, system_clock
from bot.config import ConfigError, Settings
from bot.i18n import _
from bot.plan import Plan, load_plan
from bot.schedule import quiet_until
from handlers.conversation import Conversations
from scheduler.jobs import Jobs, Scheduler
from scheduler.outbox import Outbox
from storage.repository import Storage
from storage.sqlite import SqliteStorage, sqlite_path

log = logging.getLogger("thidua")
PROCESSED_UPDATES_KEPT = timedelta(days=3)
OUTBOX_KEPT = timedelta(days=90)  # sent and failed messages, for looking into what happened


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
    try:
        path = sqlite_path(settings.database_url)
    except ValueError:
        raise ConfigError(
            _(
                "DATABASE_URL “{url}” chưa dùng được: hiện chỉ có SQLite, ví dụ "
                "sqlite:///thidua.db (tương đối) hoặc sqlite:////var/lib/thidua/thidua.db."
            ).format(url=settings.database_url.split("@")[-1])
        ) from None
    return await SqliteStorage.open(path)


@dataclass
class App:
    settings: Settings
    plan: Plan
    storage: Storage
    conversations: Conversations
    clock: Clock
    channels: list[Channel] = field(default_factory=list)
    scheduler: Scheduler | None = None
    sender: asyncio.Task[None] | None = None

    def outbox(self) -> Outbox:
        """The sender for the channels started so far, quiet in the plan's quiet hours."""
        plan = self.plan
        return Outbox(
            self.storage,
            {channel.name: channel for channel in self.channels},
            self.clock,
            lambda moment: quiet_until(plan.schedule, moment, plan.tz),
        )

    async def start_background(self) -> None:
        """The outbox's sender loop and the scheduled jobs (reminders, weekly digest)."""
        outbox = self.outbox()
        self.conversations.queued = outbox.wake  # nominations queue notices as they happen
        self.sender = asyncio.create_task(outbox.run(), name="outbox")
        self.scheduler = Scheduler(Jobs(self.plan, self.storage, self.clock, outbox.wake))
        await self.scheduler.start()

    async def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.sender is not None:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender
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
    return App(settings, plan, storage, Conversations(plan, storage, clock), clock)


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
    return TelegramChannel(options, app.conversations, app.plan.tz)


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
    )
    return ZaloChannel(options, app.conversations)


async def serve(app: App) -> None:
    """Start every configured channel and run until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with app.storage.transaction() as tx:
            # Telegram keeps an unconfirmed update for 24 hours: older ids cannot come back.
            await tx.forget_processed(app.clock() - PROCESSED_UPDATES_KEPT)
            await tx.forget_outbox(app.clock() - OUTBOX_KEPT)
        if app.settings.telegram_token:
            channel = telegram_channel(app)
            await channel.start()
            app.channels.append(channel)
            username = getattr(channel, "username", None)
            if username:
                async with app.storage.transaction() as tx:
                    await tx.set_meta("telegram_username", username)
        if app.settings.zalo_token:
            channel = zalo_channel(app)
            await channel.start()
            app.channels.append(channel)
        # What start-up built lives as long as the process: keep it out of the garbage
        # collector's full passes, whose pauses would otherwise stall sending.
        gc.collect()
        gc.freeze()
        await app.start_background()
        log.info("thidua is running (%s); Ctrl-C stops it", ", ".join(c.name for c in app.channels))
        await stop.wait()
    finally:
        await app.close()
