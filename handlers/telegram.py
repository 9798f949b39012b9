"""Thin glue between python-telegram-bot and the core: updates to ``Incoming``, replies to
Bot API calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.channels.base import split_text, utf16_length
from bot.messages import MAX_FILE_BYTES, Attachment, Incoming, OutgoingFile, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024  # Telegram's, in UTF-16 units (captions here are at most 1,000 characters)
IMAGE_DOCUMENT_PREFIX = "image/"


def incoming_from_update(update: Update) -> Incoming | None:
    """The channel-neutral form of a Telegram update, or None for updates the bot ignores."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    if chat.type != chat.PRIVATE:
        return None  # reports are personal: the bot talks in private chats only
    base = Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(chat.id),
        kind="other",
        update_key=str(update.update_id),
        display_name=user.full_name,
        language_code=user.language_code,
    )
    if update.callback_query is not None:
        return replace(base, kind="choice", text=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    return _from_message(message, base)


def _from_message(message: Message, base: Incoming) -> Incoming:
    if message.text is not None:
        return replace(base, kind="text", text=message.text)
    if message.photo:
        largest = message.photo[-1]
        attachment = Attachment(largest.file_id, largest.file_size, "image/jpeg")
        return replace(base, kind="photo", text=message.caption or "", attachments=(attachment,))
    document = message.document
    if document is not None and (document.mime_type or "").startswith(IMAGE_DOCUMENT_PREFIX):
        attachment = Attachment(document.file_id, document.file_size, document.mime_type)
        return replace(base, kind="photo", text=message.caption or "", attachments=(attachment,))
    for kind in ("sticker", "voice", "audio", "video", "video_note", "document", "location"):
        if getattr(message, kind, None) is not None:
            return replace(base, detail=kind)  # "other", with what it was
    return base


async def with_photo(bot: ExtBot[Any], incoming: Incoming) -> Incoming:
    """The photo fetched from the Bot API (before the message is applied, outside any
    transaction); left without its content when too large or when fetching fails."""
    attachment = incoming.attachments[0]
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        return incoming
    try:
        file = await bot.get_file(attachment.file_id)
        if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
            return replace(incoming, attachments=(replace(attachment, size=file.file_size),))
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not fetch a photo: %s", error)
        return incoming
    fetched = replace(attachment, data=data, size=len(data))
    return replace(incoming, attachments=(fetched,))


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    short = all(len(c.label) <= 12 for c in reply.choices) and len(reply.choices) <= 3
    if short:
        rows = [[InlineKeyboardButton(c.label, callback_data=c.value) for c in reply.choices]]
    else:
        rows = [[InlineKeyboardButton(c.label, callback_data=c.value)] for c in reply.choices]
    return InlineKeyboardMarkup(rows)


@dataclass(frozen=True)
class Part:
    """One Bot API call of a reply: a piece of text (with the buttons on the last piece), or a
    file."""

    text: str = ""
    markup: InlineKeyboardMarkup | None = None
    file: OutgoingFile | None = None


def parts(replies: list[Reply]) -> list[Part]:
    """Replies as Bot API calls: texts cut under 4096 characters at paragraph breaks."""
    found: list[Part] = []
    for reply in replies:
        pieces = split_text(reply.text, TEXT_LIMIT, utf16_length)
        for index, piece in enumerate(pieces):
            markup = keyboard(reply) if index == len(pieces) - 1 else None
            found.append(Part(text=piece, markup=markup))
        found.extend(Part(file=file) for file in reply.files)
    return found


async def send_part(
    bot: ExtBot[Any], chat_id: int | str, part: Part, rate_limit_args: dict[str, Any] | None = None
) -> None:
    if part.file is None:
        await bot.send_message(
            chat_id=chat_id,
            text=part.text,
            reply_markup=part.markup,
            rate_limit_args=rate_limit_args,
        )
        return
    upload = InputFile(part.file.data, filename=part.file.name)
    if part.file.is_image:
        await bot.send_photo(
            chat_id=chat_id,
            photo=upload,
            caption=split_text(part.file.caption, CAPTION_LIMIT, utf16_length)[0] or None,
            rate_limit_args=rate_limit_args,
        )
    else:
        await bot.send_document(chat_id=chat_id, document=upload, rate_limit_args=rate_limit_args)
