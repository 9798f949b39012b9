"""The yardstick: a plain ``ConversationHandler`` + ``PicklePersistence`` bot asking the same
questions, the way such a bot is usually written (state in memory, pickled now and then)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

from bot.plan import Form

ASK = 0


def build_comparator(token: str, base_url: str, form: Form, pickle: Path) -> Application:  # type: ignore[type-arg]
    questions = form.questions

    def markup(index: int) -> InlineKeyboardMarkup | None:
        q = questions[index]
        buttons = []
        if q.type == "yes_no":
            buttons = [("Có", "y"), ("Không", "n")]
        elif q.type == "choice":
            buttons = [(c, f"c{i}") for i, c in enumerate(q.choices)]
        if q.optional:
            buttons.append(("Bỏ qua", "skip"))
        if not buttons:
            return None
        rows = [[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons]
        return InlineKeyboardMarkup(rows)

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, index: int) -> int:
        assert context.user_data is not None and update.effective_chat is not None
        context.user_data["index"] = index
        if index >= len(questions):
            lines = [f"{q.label}: {context.user_data['answers'].get(q.id)}" for q in questions]
            await context.bot.send_message(
                update.effective_chat.id,
                "Tóm tắt:\n" + "\n".join(lines),
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Gửi", callback_data="send")]]
                ),
            )
            return ASK
        q = questions[index]
        await context.bot.send_message(
            update.effective_chat.id, f"Câu {index + 1}: {q.ask}", reply_markup=markup(index)
        )
        return ASK

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None
        context.user_data["answers"] = {}
        return await ask(update, context, 0)

    async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None and update.message is not None
        index = context.user_data["index"]
        q = questions[index]
        text = (update.message.text or "").strip()
        if q.optional and text.lower() in ("bỏ qua", "bo qua"):
            context.user_data["answers"][q.id] = None
            return await ask(update, context, index + 1)
        if q.numeric:
            try:
                value = Decimal(text.replace(".", "").replace(",", "."))
            except InvalidOperation:
                await update.message.reply_text("Xin gõ một con số.")
                return ASK
            context.user_data["answers"][q.id] = str(value)
        else:
            context.user_data["answers"][q.id] = text
        return await ask(update, context, index + 1)

    async def answer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and context.user_data is not None
        await query.answer()
        if query.data == "send":
            await context.bot.send_message(query.message.chat.id, "Đã nhận báo cáo.")  # type: ignore[union-attr]
            return ConversationHandler.END
        index = context.user_data["index"]
        q = questions[index]
        data = query.data or ""
        value: object = None
        if data in ("y", "n"):
            value = data == "y"
        elif data.startswith("c"):
            value = q.choices[int(data[1:])]
        context.user_data["answers"][q.id] = value
        return await ask(update, context, index + 1)

    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .persistence(PicklePersistence(filepath=pickle))
        .build()
    )
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("baocao", start)],
            states={
                ASK: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, answer_text),
                    CallbackQueryHandler(answer_button),
                ]
            },
            fallbacks=[],
            name="report",
            persistent=True,
            per_message=False,
        )
    )
    return app


def main() -> None:
    """Run the comparator bot on its own: ``python -m bench.comparator TOKEN BASE_URL PICKLE``."""
    import sys

    from bot.plan import load_plan

    token, base_url, pickle = sys.argv[1:4]
    form = load_plan().forms[0]
    app = build_comparator(token, base_url, form, Path(pickle))
    app.run_polling(poll_interval=0, timeout=10, close_loop=False)


if __name__ == "__main__":
    main()
