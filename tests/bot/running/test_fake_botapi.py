"""The fake Bot API answers aiogram the way Telegram does, so other tests can rely on it."""

from __future__ import annotations

import json
import urllib.request

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BotCommand, BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.fakes.botapi import FakeBotAPI, FakeUser


def _bot(api: FakeBotAPI) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    return Bot(api.token, session=session)


async def test_aiogram_round_trip_through_the_fake() -> None:
    async with FakeBotAPI() as api:
        bot = _bot(api)
        try:
            me = await bot.get_me()
            assert me.id == api.bot_id and me.is_bot

            user = FakeUser(42, "ru")
            api.send_command(user, "start")
            updates = await bot.get_updates(timeout=1)
            assert updates[0].message is not None
            assert updates[0].message.text == "/start"
            assert updates[0].message.from_user is not None
            assert updates[0].message.from_user.language_code == "ru"
            # Confirming with offset drops the update; an empty long poll returns [].
            assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []

            keyboard = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Use ✅", callback_data="v:use:7")]]
            )
            sent = await bot.send_message(42, "pick", reply_markup=keyboard)
            assert api.buttons(api.last_keyboard_message(42)) == [("Use ✅", "v:use:7")]
            edited = await bot.edit_message_text("picked", chat_id=42, message_id=sent.message_id)
            assert not isinstance(edited, bool) and edited.text == "picked"
            with pytest.raises(TelegramBadRequest, match="not modified"):
                await bot.edit_message_text("picked", chat_id=42, message_id=sent.message_id)

            await bot.set_my_commands(
                [BotCommand(command="say", description="speak")], language_code="ru"
            )
            assert api.commands["ru"] == [{"command": "say", "description": "speak"}]

            voice = await bot.send_voice(42, BufferedInputFile(b"OggS-data", filename="v.ogg"))
            call = api.wait_for("sendVoice")
            assert call.upload().data == b"OggS-data"
            assert voice.voice is not None
            assert api.file_bytes(voice.voice.file_id) == b"OggS-data"
        finally:
            await bot.session.close()


async def test_files_are_served_and_limits_enforced() -> None:
    async with FakeBotAPI() as api:
        bot = _bot(api)
        try:
            file_id, _ = api.add_file(b"abc")
            file = await bot.get_file(file_id)
            assert file.file_path is not None
            data = await bot.download_file(file.file_path)
            assert data is not None and data.read() == b"abc"
            big_id, _ = api.add_file(b"x", file_size=21 * 1024 * 1024)
            with pytest.raises(TelegramBadRequest, match="too big"):
                await bot.get_file(big_id)
            with pytest.raises(TelegramBadRequest, match="invalid file_id"):
                await bot.get_file("nope")
        finally:
            await bot.session.close()


async def test_injected_errors_have_telegrams_shape() -> None:
    async with FakeBotAPI() as api:
        bot = _bot(api)
        try:
            api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            with pytest.raises(TelegramForbiddenError):
                await bot.send_message(1, "hi")
            api.fail_next("sendVoice", 429, "Too Many Requests: retry after 3", retry_after=3)
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_voice(1, BufferedInputFile(b"x", filename="v.ogg"))
            assert caught.value.retry_after == 3
            await bot.send_message(1, "works again")
            assert [c.error is None for c in api.calls_of("sendMessage")] == [False, True]
        finally:
            await bot.session.close()


def test_runs_in_a_thread_for_sync_clients() -> None:
    with FakeBotAPI() as api:
        body = json.dumps({"chat_id": 5, "text": "hello"}).encode()
        request = urllib.request.Request(
            f"{api.url}/bot{api.token}/sendMessage",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            reply = json.loads(response.read())
        assert reply["ok"] and reply["result"]["text"] == "hello"
        assert api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 5).text == "hello"
        with pytest.raises(urllib.request.HTTPError) as caught:
            urllib.request.urlopen(f"{api.url}/botWRONG:token/getMe", timeout=5)
        assert caught.value.code == 401
