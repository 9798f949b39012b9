"""The Telegram channel: python-telegram-bot's ``Application``, long polling or webhook."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, Defaults, TypeHandler

from bot.channels.base import Rejected, RetryLater, TemporaryFailure, Unreachable
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, _, use_locale
from bot.messages import Reply
from bot.ratelimit import Limits, Pacer
from handlers.conversation import Conversations
from handlers.telegram import Part, on_update, parts, send_part, send_replies

log = logging.getLogger(__name__)

COMMANDS = [
    ("baocao", N_("Gửi báo cáo của thôn")),
    ("detcu", N_("Đề cử gương người tốt, việc tốt")),
    ("detcu_ds", N_("Các đề cử (của bạn, hoặc đang mở)")),
    ("huy", N_("Bỏ việc đang làm dở")),
    ("tonghop", N_("Tổng hợp (thường trực, Chủ tịch)")),
    ("xuat", N_("Bảng tính XLSX (thường trực, Chủ tịch)")),
    ("bantin", N_("Bản tin cho đài truyền thanh (thường trực, Chủ tịch)")),
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


@dataclass(frozen=True)
class Tuning:
    """python-telegram-bot settings the benchmarks vary; production keeps the defaults."""

    concurrent_updates: bool = True
    defaults: bool = True  # Defaults(tzinfo=the plan's timezone)
    connection_pool_size: int | None = None  # the library's own when None


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        options: TelegramOptions,
        conversations: Conversations,
        tz: ZoneInfo,
        tuning: Tuning | None = None,
    ) -> None:
        self.options = options
        tuning = tuning or Tuning()
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(options.token)
            .base_url(options.api_url)
            .base_file_url(options.files_url)
            .concurrent_updates(tuning.concurrent_updates)
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
        self.app: Application = builder.build()  # type: ignore[type-arg]
        self.app.bot_data["conversations"] = conversations
        self.app.add_handler(TypeHandler(Update, on_update))
        self.app.add_error_handler(self._on_error)
        self.username: str | None = None

    @staticmethod
    async def _on_error(update: object, context: object) -> None:
        error = getattr(context, "error", None)
        log.error("error while handling an update: %s", type(error).__name__, exc_info=error)

    async def start(self) -> None:
        await self.app.initialize()
        self.username = self.app.bot.username
        try:
            for locale in SUPPORTED_LOCALES:
                with use_locale(locale):
                    commands = [BotCommand(name, _(text)) for name, text in COMMANDS]
                # The default list is Vietnamese; other languages get their own.
                code = None if locale == DEFAULT_LOCALE else locale
                await self.app.bot.set_my_commands(commands, language_code=code)
        except Exception as error:  # a cosmetic call: never keep the bot from starting
            log.warning("could not set the command list: %s", type(error).__name__)
        updater = self.app.updater
        assert updater is not None
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
            )
            log.info("telegram: polling as @%s", self.username)
        await self.app.start()

    async def stop(self) -> None:
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def send(self, chat_id: str, replies: list[Reply], locale: str) -> None:
        with use_locale(locale):
            await send_replies(self.app.bot, chat_id, replies)

    def parts(self, replies: list[Reply]) -> list[Any]:
        return list(parts(replies))

    async def send_part(self, chat_id: str, part: Any) -> None:
        assert isinstance(part, Part)
        try:
            # A 429 comes back to the outbox, which waits by its own clock and retries.
            await send_part(self.app.bot, chat_id, part, {"max_retries": 0})
        except RetryAfter as error:
            raise RetryLater(retry_seconds(error), error.message) from error
        except Forbidden as error:
            raise Unreachable(error.message) from error
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                raise Unreachable(error.message) from error
            raise Rejected(error.message) from error
        except NetworkError as error:  # TimedOut, 5xx, connection errors
            raise TemporaryFailure(error.message or type(error).__name__) from error
        except TelegramError as error:
            raise Rejected(error.message) from error


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
