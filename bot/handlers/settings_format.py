"""/format voice|mp3 (and its buttons)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import FormatCb
from bot.locales import Texts
from bot.screens import show_screen
from storage import OutputFormat, Storage, User
from storage.models import OUTPUT_FORMATS

router = Router(name="format")


def output_format_named(name: str) -> OutputFormat | None:
    """The output format a user typed after /format (any case), if it is one."""
    wanted = name.strip().lower()
    return next((known for known in OUTPUT_FORMATS if known == wanted), None)


@router.message(Command("format"))
async def format_command(
    message: Message, command: CommandObject, store: Storage, user: User, texts: Texts
) -> None:
    choice = output_format_named(command.args or "")
    if choice is not None:
        await store.users.set_output_format(user.id, choice)
        await message.answer(texts.format_set.format(format=texts.format_names[choice]))
        return
    current = texts.format_names.get(user.output_format, user.output_format)
    await message.answer(
        texts.format_prompt.format(current=current), reply_markup=keyboards.formats(texts)
    )


@router.callback_query(FormatCb.filter())
async def format_chosen(
    callback: CallbackQuery, callback_data: FormatCb, store: Storage, user: User, texts: Texts
) -> None:
    await store.users.set_output_format(user.id, callback_data.output_format)
    name = texts.format_names[callback_data.output_format]
    await show_screen(callback, texts.format_set.format(format=name))
    await callback.answer()
