# ruff: noqa: ASYNC109  (the waiting helpers take a per-call `timeout`, like the tests expect)
"""What every Bot API stand-in shares: serving on 127.0.0.1, and waiting for the bot."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Self

from aiohttp import web


class LocalApi:
    """An aiohttp app on a free port of 127.0.0.1, and the helpers a test waits with.

    Subclasses call ``_notify()`` after every request or pushed event, and set
    ``_last_activity`` when the bot does something other than long polling.
    """

    def __init__(self) -> None:
        self.port: int = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self._closed = False
        self._last_activity = time.monotonic()
        self._counter = itertools.count(1)

    async def _serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closed = False

    async def _unserve(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _next_id(self) -> int:
        return next(self._counter)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds, re-checking after every API call or pushed
        event; False when ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    async def idle(self, quiet: float = 0.1, timeout: float = 5.0) -> None:
        """Wait until no API call other than long polling arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            silent_for = now - self._last_activity
            if silent_for >= quiet:
                return
            if now >= deadline:
                raise AssertionError(f"the bot kept calling the API for {timeout}s")
            await asyncio.sleep(quiet - silent_for)
