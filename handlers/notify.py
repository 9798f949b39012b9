"""Queueing what the bot says on its own to a person, on the channel they used last."""

from __future__ import annotations

from datetime import datetime

from bot.domain import FILE_CHANNELS, Person
from bot.messages import Reply
from storage.repository import Transaction


async def queue_to(
    tx: Transaction,
    key: str,
    person: Person,
    reply: Reply,
    now: datetime,
    files_title: str = "",
) -> bool:
    """Queue ``reply`` to ``person`` under ``key`` (once per key). When their channel takes
    no files (Zalo) and they have one that does (Telegram), the files go there too, under
    ``files_title``. False when the person cannot be reached, or the key was queued."""
    identity = person.reachable
    if identity is None:
        return False
    message = await tx.queue_message(key, person.id, identity, person.locale, [reply], now)
    queued = message is not None
    elsewhere = person.reachable_with_files
    if queued and reply.files and identity.channel not in FILE_CHANNELS and elsewhere:
        files = Reply(files_title, files=reply.files)
        await tx.queue_message(f"{key}:files", person.id, elsewhere, person.locale, [files], now)
    return queued
