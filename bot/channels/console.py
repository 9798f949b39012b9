"""The console channel: the same bot in a terminal, on the same engine and database."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from bot.channels.base import numbered_menu
from bot.i18n import _, use_locale
from bot.messages import Incoming, OutgoingFile, Reply
from handlers.conversation import Conversations

CHANNEL = "console"
DEFAULT_EXPORTS = "exports"  # THIDUA_EXPORTS


def save_file(folder: Path, part: OutgoingFile) -> Path:
    """Write a file the bot sent into ``folder`` (made when missing), under its own name
    only (never a path it carries), and return where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder.absolute() / (Path(part.name).name or "thidua")
    path.write_bytes(part.data)
    return path


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
        exports: Path | None = None,
    ) -> None:
        self.conversations = conversations
        # Where files the bot sends (the /xuat workbook) are saved; relative paths are taken
        # from the working directory when a file is saved.
        self.exports = exports if exports is not None else Path(DEFAULT_EXPORTS)
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
        """Each reply as a numbered menu, then its files; a screen asking for a photo says
        that a terminal cannot send one."""
        found: list[Any] = []
        for reply in replies:
            text = numbered_menu(reply)
            if reply.asks_photo:
                text += "\n\n" + _(
                    "(Cửa sổ dòng lệnh không gửi được ảnh. Câu không bắt buộc thì gõ "
                    "“Bỏ qua”; câu cần ảnh thì xin gửi báo cáo qua Zalo hoặc Telegram.)"
                )
            found.append(text)
            found.extend(reply.files)
        return found

    async def send_part(self, chat_id: str, part: Any) -> None:
        if isinstance(part, OutgoingFile):
            path = await asyncio.to_thread(save_file, self.exports, part)
            self._print(_("(Đã lưu tệp {path})").format(path=path) + "\n")
        else:
            self._print(str(part) + "\n")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def serve(self, greeting: str | None = None) -> None:
        """Chat until end of input (Ctrl-D), ``/thoat`` or Ctrl-C (at once, with a
        goodbye: lines are read by a thread of their own that never holds up the exit)."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def read() -> None:
            for line in iter(self.stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        if greeting:
            self._print(greeting)
        try:
            while True:
                self.stdout.write("> ")
                self.stdout.flush()
                line = await lines.get()
                if not line:
                    self._print("")
                    return
                text = line.rstrip("\n").strip()
                if not text:
                    continue
                if text in ("/thoat", "/exit", "/quit"):
                    self._print(await self._goodbye())
                    return
                await self._said(text)
        except asyncio.CancelledError:  # Ctrl-C
            self._print("\n" + await self._goodbye())
            raise

    async def _goodbye(self) -> str:
        """Goodbye, and that the draft is kept when there is one."""
        async with self.conversations.storage.transaction() as tx:
            found = await tx.person_with_draft(CHANNEL, self.user_id)
        if found is not None and found[1] is not None:
            return _("Tạm biệt! Bản nháp vẫn được lưu.")
        return _("Tạm biệt!")

    async def _said(self, text: str) -> None:
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
