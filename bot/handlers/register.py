"""Registering a voice: a voice message, an audio file or document, or a video note
(the recording service learns it: bot/services/recordings.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.callbacks import RegisterCb, RegisterChoice
from bot.filters import OwnedVoice
from bot.locales import Texts
from bot.queue import JobQueue
from bot.screens import chat_id_of
from bot.services import Asker, RecordingService
from bot.services.recording_input import AUDIO, embed_request_of
from storage import User, Voice

router = Router(name="register")


@router.message(AUDIO)
async def recording_received(
    message: Message, recordings: RecordingService, user: User, texts: Texts
) -> None:
    request = embed_request_of(message)
    if request is None:
        await message.answer(texts.not_audio_file)
        return
    await recordings.offer_or_learn(Asker(user, texts, message.chat.id), request)


# One handler, registered twice: "merge" only with the sender's own voice (OwnedVoice injects
# it as `voice`; a refused one ends at the fallback's "voice is gone"), "new" with no voice.
@router.callback_query(RegisterCb.filter(F.choice == RegisterChoice.merge), OwnedVoice())
@router.callback_query(RegisterCb.filter(F.choice == RegisterChoice.new))
async def merge_or_new_chosen(
    callback: CallbackQuery,
    jobs: JobQueue,
    recordings: RecordingService,
    user: User,
    texts: Texts,
    voice: Voice | None = None,
) -> None:
    request = await jobs.take_pending(user.id)
    if request is None:
        await callback.answer(texts.pending_expired, show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    await recordings.learn(Asker(user, texts, chat_id_of(callback)), request, voice)
