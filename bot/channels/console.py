"""The console channel: the same bot in a terminal, on the same engine and database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.channels.base import numbered_menu
from bot.i18n import _, use_locale
from bot.messages import Incoming, OutgoingFile, Reply
from handlers.conversation import Conversations

CHANNEL = "console"


class ConsoleChannel:
    """Reads lines from ``stdin`` and prints replies; choices show as numbered menus."""

    name = CHANNEL

    def __init__(
        self,
        conversations: Conversations,
        user_id: str,
        display_name: str = "",
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.conversations = conversations
        self.user_id = user_id
        self.display_name = display_name
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def send(self, chat_id: str, replies: list[Reply], locale: str) -> None:
        with use_locale(locale):
            for part in self.parts(replies):
                await self.send_part(chat_id, part)

    def parts(self, replies: list[Reply]) -> list[Any]:
        found: list[Any] = []
        for reply in replies:
            found.append(numbered_menu(reply))
            found.extend(reply.files)
        return found

    async def send_part(self, chat_id: str, part: Any) -> None:
        if isinstance(part, OutgoingFile):
            path = Path.cwd() / part.name
            path.write_bytes(part.data)
            self._print(_("(Đã lưu tệp {path})").format(path=path) + "\n")
        else:
            self._print(str(part) + "\n")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def serve(self, greeting: str | None = None) -> None:
        """Chat until end of input (Ctrl-D) or ``/thoat``."""
        loop = asyncio.get_running_loop()
        if greeting:
            self._print(greeting)
        while True:
            self.stdout.write("> ")
            self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                self._print("")
                return
            text = line.rstrip("\n").strip()
            if not text:
                continue
            if text in ("/thoat", "/exit", "/quit"):
                self._print(_("Tạm biệt! Bản nháp vẫn được lưu."))
                return
            incoming = Incoming(
                channel=CHANNEL,
                user_id=self.user_id,
                chat_id=self.user_id,
                kind="text",
                text=text,
                display_name=self.display_name,
            )
            outcome = await self.conversations.handle(incoming)
            await self.send(self.user_id, outcome.replies, outcome.locale)
