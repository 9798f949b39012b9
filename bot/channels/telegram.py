"""The Telegram channel: python-telegram-bot's ``Application``, long polling or webhook."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults, TypeHandler

from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, _, use_locale
from bot.messages import Reply
from handlers.conversation import Conversations
from handlers.telegram import on_update, send_replies

log = logging.getLogger(__name__)

COMMANDS = [
    ("baocao", N_("Gửi báo cáo của thôn")),
    ("huy", N_("Bỏ báo cáo đang làm dở")),
    ("tonghop", N_("Tổng hợp (thường trực, Chủ tịch)")),
    ("xuat", N_("Bảng tính XLSX (thường trực, Chủ tịch)")),
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
    rate_limit: float = 30.0  # messages per second in all; 0 turns the limiter off
    poll_timeout: int = 30

    @property
    def files_url(self) -> str:
        if self.file_api_url:
            return self.file_api_url
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"


class TelegramChannel:
    name = "telegram"

    def __init__(
        self, options: TelegramOptions, conversations: Conversations, tz: ZoneInfo
    ) -> None:
        self.options = options
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(options.token)
            .base_url(options.api_url)
            .base_file_url(options.files_url)
            .defaults(Defaults(tzinfo=tz))
            .concurrent_updates(True)
        )
        if options.rate_limit > 0:
            builder = builder.rate_limiter(
                AIORateLimiter(overall_max_rate=options.rate_limit, max_retries=3)
            )
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
