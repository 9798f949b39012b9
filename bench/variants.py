"""thidua's Telegram bot with one setting changed, for the benchmark: what ``thidua run``
does, but with a ``TelegramChannel`` built here.

    python -m bench.variants sequential   # PTB concurrent_updates=False
    python -m bench.variants concurrent   # as shipped (concurrent_updates=True)

Settings come from the environment, as for ``thidua run``.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults, TypeHandler

from bot.bootstrap import App, build, setup_logging
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import Settings
from handlers.conversation import Conversations
from handlers.telegram import on_update

VARIANTS: dict[str, bool] = {"sequential": False, "concurrent": True}


class VariantChannel(TelegramChannel):
    """``TelegramChannel`` with PTB's ``concurrent_updates`` chosen by the caller."""

    def __init__(
        self,
        options: TelegramOptions,
        conversations: Conversations,
        tz: ZoneInfo,
        concurrent_updates: bool,
    ) -> None:
        self.options = options
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(options.token)
            .base_url(options.api_url)
            .base_file_url(options.files_url)
            .defaults(Defaults(tzinfo=tz))
            .concurrent_updates(concurrent_updates)
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


async def serve(app: App, concurrent_updates: bool) -> None:
    s = app.settings
    assert s.telegram_token
    options = TelegramOptions(
        token=s.telegram_token, api_url=s.telegram_api_url, rate_limit=s.telegram_rate_limit
    )
    channel = VariantChannel(options, app.conversations, app.plan.tz, concurrent_updates)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await channel.start()
    app.channels.append(channel)
    try:
        await stop.wait()
    finally:
        await app.close()


async def run(variant: str) -> None:
    settings = Settings.from_env()
    setup_logging(settings)
    await serve(await build(settings), VARIANTS[variant])


def main() -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else ""
    if variant not in VARIANTS:
        raise SystemExit(f"usage: python -m bench.variants {{{','.join(VARIANTS)}}}")
    asyncio.run(run(variant))


if __name__ == "__main__":
    main()
