"""Fakes for unit tests: a channel that records what it sends and fails when told to."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from typing import Any

from bot.channels.base import DeliveryError, numbered_menu
from bot.messages import Attachment, Incoming, Reply


class RecordingChannel:
    """A ``Channel`` with no platform: ``sent`` holds (chat id, text) per platform call,
    ``failures`` the errors the next calls raise, ``photos`` the bytes ``fetch`` finds for an
    attachment id (after ``fetch_delay`` seconds)."""

    def __init__(self, name: str = "telegram") -> None:
        self.name = name
        self.ready = True
        self.takes_files = True
        self.sent: list[tuple[str, str]] = []
        self.failures: deque[DeliveryError] = deque()
        self.photos: dict[str, bytes] = {}
        self.fetch_delay = 0.0
        self.fetched: list[str] = []

    async def connect(self) -> None:
        self.ready = True

    async def stop(self) -> None:
        self.ready = False

    async def fetch(self, incoming: Incoming) -> Incoming:
        await asyncio.sleep(self.fetch_delay)
        attachment = incoming.attachments[0]
        self.fetched.append(attachment.file_id)
        data = self.photos.get(attachment.file_id)
        if data is None:
            return incoming
        fetched = Attachment(attachment.file_id, len(data), attachment.mime_type, data)
        return replace(incoming, attachments=(fetched,))

    def parts(self, replies: list[Reply]) -> list[Any]:
        return [numbered_menu(reply) for reply in replies]

    async def send_part(self, chat_id: str, part: Any) -> None:
        if self.failures:
            raise self.failures.popleft()
        self.sent.append((chat_id, str(part)))

    def texts(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]
