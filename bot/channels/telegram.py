"""The Telegram channel: python-telegram-bot's ``Application`` and ``Updater``, long polling
or webhook, every update stored in the inbox before Telegram is told it arrived."""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, Defaults

from bot.app.config import ConfigError
from bot.channels.base import (
    ChannelDown,
    Receiver,
    Rejected,
    RetryLater,
    TemporaryFailure,
    Unreachable,
)
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, _, command_name, use_locale
from bot.messages import Incoming, Reply
from bot.ratelimit import Limits, Pacer
from handlers.telegram import CHANNEL, Part, incoming_from_update, parts, send_part, with_photo

log = logging.getLogger(__name__)

COMMANDS = [
    ("baocao", N_("Gửi báo cáo của thôn")),
    ("detcu", N_("Đề cử gương người tốt, việc tốt")),
    ("detcu_ds", N_("Các đề cử (của bạn, hoặc đang mở)")),
    ("traloi", N_("Trả lời câu hỏi về đề cử của bạn")),
    ("tucham", N_("Tự chấm điểm thi đua của thôn")),
    ("tucham_ds", N_("Các đề nghị chấm lại (của thôn, hoặc đang chờ xét)")),
    ("bangdiem", N_("Bảng điểm thi đua")),
    ("huy", N_("Bỏ việc đang làm dở")),
    ("tonghop", N_("Tổng hợp (thường trực, Chủ tịch)")),
    ("xuat", N_("Bảng tính XLSX (thường trực, Chủ tịch)")),
    ("bantin", N_("Bản tin cho đài truyền thanh (thường trực, Chủ tịch)")),
    ("web", N_("Đường dẫn vào trang web của thidua")),
    ("huongdan", N_("Hướng dẫn")),
    ("ngonngu", N_("Đổi ngôn ngữ")),
]


@dataclass(frozen=True)
class TelegramOptions:
    token: str
    api_url: str = "https://api.telegram.org/bot"
    file_api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_port: int = 8443
    webhook_listen: str = "0.0.0.0"
    rate_limit: float = 28.0  # messages per second in all; 0 turns pacing off
    limits: Limits | None = None  # all the pacing limits (``rate_limit`` alone otherwise)
    send_timeout: float | None = None  # seconds to wait for a Bot API answer (library default)
    poll_timeout: int = 30

    @property
    def files_url(self) -> str:
        if self.file_api_url:
            return self.file_api_url
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"


# Bot API calls (messages, button answers) in flight at once. More buy nothing at Telegram's
# pace (30 a second) and cost a great deal here: httpcore looks at every pooled connection,
# with system calls, around every request, so fifty replies going out at once through fifty
# connections made the HTTP pool a fifth of the bot's CPU.
CONCURRENT_CALLS = 4


@dataclass(frozen=True)
class Tuning:
    """python-telegram-bot settings the benchmarks vary; production keeps the defaults."""

    defaults: bool = True  # Defaults(tzinfo=the plan's timezone)
    connection_pool_size: int | None = CONCURRENT_CALLS + 2  # the library's own when None
    concurrent_calls: int = CONCURRENT_CALLS


class InboxQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The update queue python-telegram-bot's ``Updater`` puts every update in: ``put``
    returns only once the update is stored in the inbox, so the next ``getUpdates`` offset
    (polling) or the webhook's 200 acknowledges nothing that is not stored. A pressed button
    is answered (the spinner stops) once the press is stored; a failing answer changes
    nothing about the press."""

    def __init__(self, channel: TelegramChannel) -> None:
        super().__init__()
        self.channel = channel

    async def put(self, item: Any) -> None:
        if not isinstance(item, Update):
            return
        incoming = incoming_from_update(item)
        if incoming is not None:
            await self.channel.receiver.receive(incoming)
        if item.callback_query is not None:
            self.channel.answer_later(item.callback_query.id)


class TelegramChannel:
    name = CHANNEL
    takes_files = True

    def __init__(
        self,
        options: TelegramOptions,
        receiver: Receiver,
        tz: ZoneInfo,
        tuning: Tuning | None = None,
    ) -> None:
        check_webhook(options)
        self.options = options
        self.receiver = receiver
        tuning = tuning or Tuning()
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(options.token)
            .base_url(options.api_url)
            .base_file_url(options.files_url)
            .update_queue(InboxQueue(self))
            .job_queue(None)  # scheduled work lives in ``scheduler``, not in the channel
        )
        if tuning.defaults:
            builder = builder.defaults(Defaults(tzinfo=tz))
        if tuning.connection_pool_size is not None:
            builder = builder.connection_pool_size(tuning.connection_pool_size).pool_timeout(30)
        if options.send_timeout is not None:
            builder = builder.read_timeout(options.send_timeout).write_timeout(options.send_timeout)
        self.pacer: Pacer | None = None
        if options.rate_limit > 0:
            self.pacer = Pacer(options.limits or Limits(rate=options.rate_limit))
            builder = builder.rate_limiter(PacedRateLimiter(self.pacer))
        # The Application holds the bot (and its rate limiter) and the Updater that polls or
        # serves the webhook; updates are applied from the inbox, not by its handlers.
        self.app: Application = builder.build()  # type: ignore[type-arg]
        self._calls = asyncio.Semaphore(tuning.concurrent_calls)
        self.username: str | None = None
        self.ready = False
        self._answers: set[asyncio.Task[None]] = set()
        self._poll_errors = 0

    async def connect(self) -> None:
        """Reach the Bot API (``getMe``), then poll or set the webhook. Raises
        ``ConfigError`` when Telegram refuses the token, ``ChannelDown`` when it cannot be
        reached (the caller tries again later)."""
        try:
            await self.app.initialize()
        except InvalidToken:
            raise ConfigError(
                _("Telegram từ chối token: kiểm tra lại TELEGRAM_BOT_TOKEN (lấy từ @BotFather).")
            ) from None
        except NetworkError as error:  # TimedOut, connection errors, 5xx
            raise ChannelDown(_network_reason(error)) from None
        self.username = self.app.bot.username
        await self._set_commands()
        updater = self.app.updater
        assert updater is not None
        try:
            if self.options.webhook_url:
                path = self.options.webhook_url.rstrip("/").rsplit("/", 1)[-1]
                await updater.start_webhook(
                    listen=self.options.webhook_listen,
                    port=self.options.webhook_port,
                    url_path=path,
                    webhook_url=self.options.webhook_url,
                    secret_token=self.options.webhook_secret,
                    allowed_updates=["message", "callback_query"],
                )
                log.info("telegram: webhook on port %s", self.options.webhook_port)
            else:
                await updater.start_polling(
                    timeout=self.options.poll_timeout,
                    poll_interval=0,
                    allowed_updates=["message", "callback_query"],
                    error_callback=self._on_poll_error,
                )
                log.info("telegram: polling as @%s", self.username)
        except InvalidToken:
            raise ConfigError(
                _("Telegram từ chối token: kiểm tra lại TELEGRAM_BOT_TOKEN (lấy từ @BotFather).")
            ) from None
        except NetworkError as error:
            raise ChannelDown(_network_reason(error)) from None
        self.ready = True

    async def _set_commands(self) -> None:
        try:
            for locale in SUPPORTED_LOCALES:
                with use_locale(locale):
                    commands = [
                        BotCommand(command_name(f"/{name}").lstrip("/"), _(text))
                        for name, text in COMMANDS
                    ]
                # The default list is Vietnamese; other languages get their own.
                code = None if locale == DEFAULT_LOCALE else locale
                await self.app.bot.set_my_commands(commands, language_code=code)
        except Exception as error:  # a cosmetic call: never keep the bot from starting
            log.warning("could not set the command list: %s", type(error).__name__)

    def _on_poll_error(self, error: TelegramError) -> None:
        """One line when polling starts failing, then one every hundred failures
        (python-telegram-bot retries with a growing pause, up to 30 s)."""
        self._poll_errors += 1
        if self._poll_errors % 100 == 1:
            log.warning(
                "telegram: getUpdates failed (%s); trying again (%s failure%s so far)",
                _network_reason(error),
                self._poll_errors,
                "" if self._poll_errors == 1 else "s",
            )

    def answer_later(self, query_id: str) -> None:
        """Answer a pressed button in the background; an answer that fails (the press is
        too old, a network error) is logged and changes nothing else."""
        task = asyncio.create_task(self._answer(query_id))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, query_id: str) -> None:
        try:
            async with self._calls:
                await self.app.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.info("telegram: a button press was not answered: %s", error)

    async def fetch(self, incoming: Incoming) -> Incoming:
        return await with_photo(self.app.bot, incoming)

    async def stop(self) -> None:
        self.ready = False
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._answers:
            await asyncio.gather(*self._answers, return_exceptions=True)
        await self.app.shutdown()

    def parts(self, replies: list[Reply]) -> list[Any]:
        return list(parts(replies))

    async def send_part(self, chat_id: str, part: Any) -> None:
        assert isinstance(part, Part)
        try:
            # A 429 comes back to the outbox, which waits by its own clock and retries.
            limits = {"max_retries": 0} if self.pacer is not None else None
            async with self._calls:
                await send_part(self.app.bot, chat_id, part, limits)
        except RetryAfter as error:
            raise RetryLater(retry_seconds(error), error.message) from error
        except Forbidden as error:
            raise Unreachable(error.message) from error
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                raise Unreachable(error.message) from error
            raise Rejected(error.message) from error
        except NetworkError as error:  # TimedOut, 5xx, connection errors
            if _never_left(error):
                raise ChannelDown(_network_reason(error)) from error
            raise TemporaryFailure(error.message or type(error).__name__) from error
        except TelegramError as error:
            raise Rejected(error.message) from error


WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")  # Telegram takes 1-256 of these


def check_webhook(options: TelegramOptions) -> None:
    """A webhook must carry a secret Telegram sends back with every update, or anyone who
    learns the URL can act as any registered person: refuse to start without one of at least
    16 characters (letters, digits, ``_`` and ``-``, as Telegram takes)."""
    if options.webhook_url and not WEBHOOK_SECRET.match(options.webhook_secret or ""):
        raise ConfigError(
            _(
                "THIDUA_WEBHOOK_URL cần đi kèm THIDUA_WEBHOOK_SECRET: một chuỗi bí mật từ 16 "
                "đến 256 ký tự, chỉ gồm chữ không dấu, số, “_” và “-”. Ví dụ tạo bằng: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        )


def _never_left(error: NetworkError) -> bool:
    """Whether the request cannot have reached Telegram: no connection was made."""
    return isinstance(error.__cause__, httpx.ConnectError | httpx.ConnectTimeout)


def _network_reason(error: TelegramError) -> str:
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else (error.message or type(error).__name__)


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # python-telegram-bot 22 warns about the int form
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _is_group(chat_id: object) -> bool:
    text = str(chat_id)
    return text.startswith("-") or text.startswith("@")


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Every message the bot sends, replies and outbox alike, waits its turn in one ``Pacer``.

    A 429 holds all sending for ``retry_after``; the call is then retried up to
    ``max_retries`` times (``rate_limit_args={"max_retries": 0}`` hands it back instead).
    """

    PACED = ("send", "edit", "copy", "forward")

    def __init__(self, pacer: Pacer, max_retries: int = 3) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced = endpoint.startswith(self.PACED) and endpoint != "sendChatAction"
        retries = (rate_limit_args or {}).get("max_retries", self.max_retries)
        chat = data.get("chat_id")
        attempt = 0
        while True:
            if paced:
                await self.pacer.wait(chat, _is_group(chat))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= retries:
                    raise
                attempt += 1
                seconds = retry_seconds(error)
                log.warning("Telegram asked to wait %s s (%s)", seconds, endpoint)
                self.pacer.hold(seconds)
                if not paced:
                    await asyncio.sleep(seconds)
