"""thidua's Telegram bot with some settings changed, for the benchmark: what ``thidua run``
does, but with a ``TelegramChannel`` and storage connection set up here.

    python -m bench.variants FEATURE[+FEATURE...]

Features:

- ``nodefaults``: no ``Defaults(tzinfo=…)`` on the Application (nothing uses it, and with
  Defaults set PTB inspects every parameter of every Bot API call);
- ``poolN`` (``pool8``…): at most N connections in the bot's HTTP pool (PTB's default is 256;
  httpcore checks every pooled connection, with two system calls each, around every request);
- ``shipped``: nothing changed.

Settings come from the environment, as for ``thidua run``.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.app.bootstrap import App, build, setup_logging
from bot.app.config import Settings
from bot.channels.telegram import TelegramChannel, TelegramOptions, Tuning

FEATURES = ("nodefaults", "poolN", "shipped")


def known_feature(feature: str) -> bool:
    if feature.startswith("pool"):
        return feature[4:].isdigit() and int(feature[4:]) > 0
    return feature in FEATURES


def pool_size(features: set[str]) -> int | None:
    sizes = [int(f[4:]) for f in features if f.startswith("pool")]
    return sizes[0] if sizes else None


async def serve(app: App, features: set[str]) -> None:
    s = app.settings
    assert s.telegram_token
    options = TelegramOptions(
        token=s.telegram_token, api_url=s.telegram_api_url, rate_limit=s.telegram_rate_limit
    )
    tuning = Tuning(
        defaults="nodefaults" not in features,
        connection_pool_size=pool_size(features),
    )
    channel = TelegramChannel(options, app.inbox, app.plan.tz, tuning)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app.add_channel(channel)
    await app.inbox.start()
    await channel.connect()
    await app.start_background()
    try:
        await stop.wait()
    finally:
        await app.close()


async def run(features: set[str]) -> None:
    settings = Settings.from_env()
    setup_logging(settings)
    await serve(await build(settings), features)


def main() -> None:
    features = set(sys.argv[1].split("+")) if len(sys.argv) > 1 else set()
    if not features or not all(map(known_feature, features)):
        raise SystemExit(f"usage: python -m bench.variants FEATURE[+FEATURE...]; {FEATURES}")
    asyncio.run(run(features))


if __name__ == "__main__":
    main()
