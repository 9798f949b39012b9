# ruff: noqa: ASYNC109  (the waiting helpers take a per-call `timeout`, like the tests expect)
"""What every Bot API stand-in shares: serving on 127.0.0.1, and waiting for the bot."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Self
from urllib.parse import urlsplit

from aiohttp import web

#: Hosts a stand-in may reach without a route: this machine.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class LocalApi:
    """An aiohttp app on 127.0.0.1, and the helpers a test waits with.

    ``port`` (0: a free port, chosen on the first ``start``) is kept after ``stop``, so a
    stopped stand-in can be started again on the same port: a test makes the platform
    unreachable with ``stop()`` and brings it back with ``start()``, and a bot configured with
    ``base_url`` reconnects to it.  What the stand-in recorded (requests, messages, queued
    updates) survives the restart.

    Subclasses call ``_notify()`` after every request or pushed event, and set
    ``_last_activity`` when the bot does something other than long polling.
    """

    def __init__(self, port: int = 0) -> None:
        self.port: int = port
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self._closed = False
        self._last_activity = time.monotonic()
        self._counter = itertools.count(1)
        #: Public webhook base URL -> local base URL (see ``route_webhook``).
        self.webhook_routes: dict[str, str] = {}

    @property
    def serving(self) -> bool:
        """Whether the stand-in is started (between ``start`` and ``stop``)."""
        return self._runner is not None

    async def _serve(self, app: web.Application) -> None:
        """Serve ``app`` on 127.0.0.1 at ``port`` (a free port when 0, then kept)."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already serving on port {self.port}")
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = int(self._runner.addresses[0][1])
        self._closed = False

    async def _unserve(self) -> None:
        """Stop serving; ``port`` stays, for a later ``start``."""
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

    def route_webhook(self, public_base: str, local_base: str) -> None:
        """POST what is meant for ``public_base`` (``https://bot.example.vn``) to
        ``local_base`` (``http://127.0.0.1:8444``), path and query kept, as the reverse proxy
        in front of a real bot does (the platforms demand HTTPS; the bot serves plain HTTP)."""
        self.webhook_routes[public_base.rstrip("/")] = local_base.rstrip("/")

    def _route(self, url: str) -> str | None:
        """Where a POST meant for ``url`` goes: through the longest matching
        ``route_webhook``, else ``url`` itself if it is on this machine, else ``None`` (the
        stand-ins never reach beyond 127.0.0.1)."""
        matches = [
            public
            for public in self.webhook_routes
            if url == public or url.startswith((public + "/", public + "?"))
        ]
        if matches:
            public = max(matches, key=len)
            return self.webhook_routes[public] + url[len(public) :]
        if urlsplit(url).hostname in LOCAL_HOSTS:
            return url
        return None

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
