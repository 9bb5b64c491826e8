"""/voices: use, rename (the one FSM flow), publish with consent, withdraw, delete.

A button's voice id is resolved by the `OwnedVoice` filter (bot/filters.py): these handlers
run only for the sender's own voice. Publish and withdraw leave the check to storage, whose
update matches the owner in the same query. What reaches others (the bank, revocations of
queued jobs) is the voice service's (bot/services/voices.py).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import VoiceAction, VoiceCb
from bot.filters import OwnedVoice
from bot.locales import Texts
from bot.names import VoiceNameError, clean_voice_name
from bot.screens import Screen, show_screen
from bot.services import VoiceService
from storage import MAX_VOICE_NAME_CHARS, Mix, MixSource, Storage, User, Voice

router = Router(name="voices")


class Rename(StatesGroup):
    waiting_for_name = State()


def mix_provenance(mix: Mix, texts: Texts) -> str:
    """The card's line of where a mix came from: mix: 75 % “Anna” + 25 % “Boris” (a source
    no longer there is said so, unnamed)."""

    def source(found: MixSource) -> str:
        return (
            texts.mix_source_gone
            if found.name is None
            else texts.mix_source.format(name=found.name)
        )

    return texts.mix_provenance.format(
        first_share=round(mix.first_share * 100),
        first=source(mix.first),
        second_share=round(mix.second_share * 100),
        second=source(mix.second),
    )


def voice_card(voice: Voice, active_id: int | None, texts: Texts, mix: Mix | None = None) -> str:
    status = texts.status_public if voice.public else texts.status_private
    if voice.id == active_id:
        status = f"{texts.status_active}, {status}"
    if mix is not None and voice.sample_count == 0:  # a mix and nothing else
        return texts.voice_card_mix.format(
            name=voice.name, provenance=mix_provenance(mix, texts), status=status
        )
    card = texts.voice_card.format(
        name=voice.name,
        count=voice.sample_count,
        speech=texts.seconds(voice.speech_seconds),
        status=status,
    )
    return card if mix is None else f"{card}\n{mix_provenance(mix, texts)}"


async def voice_list_screen(store: Storage, user_id: int, texts: Texts) -> Screen:
    voices = await store.voices.list_owned(user_id)
    if not voices:
        return texts.no_voices, None
    user = await store.users.get(user_id)
    active = user.active_voice_id if user else None
    return texts.voices_header, keyboards.voice_list(voices, active)


@router.message(Command("voices"))
async def list_voices(message: Message, store: Storage, user: User, texts: Texts) -> None:
    text, markup = await voice_list_screen(store, user.id, texts)
    await message.answer(text, reply_markup=markup)


async def refresh_card(callback: CallbackQuery, store: Storage, voice: Voice, texts: Texts) -> None:
    user = await store.users.get(voice.owner_id or 0)
    active = user.active_voice_id if user else None
    mix = await store.mixes.of(voice.id, voice.owner_id or 0)
    await show_screen(
        callback, voice_card(voice, active, texts, mix), keyboards.voice_actions(voice, texts)
    )


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.back))
async def back_to_list(callback: CallbackQuery, store: Storage, user: User, texts: Texts) -> None:
    text, markup = await voice_list_screen(store, user.id, texts)
    await show_screen(callback, text, markup)
    await callback.answer()


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.show), OwnedVoice())
async def show_voice(callback: CallbackQuery, voice: Voice, store: Storage, texts: Texts) -> None:
    await refresh_card(callback, store, voice, texts)
    await callback.answer()


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.use), OwnedVoice())
async def use_voice(
    callback: CallbackQuery, voice: Voice, store: Storage, user: User, texts: Texts
) -> None:
    if not await store.users.set_active_voice(user.id, voice.id):  # deleted since the filter
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    await refresh_card(callback, store, voice, texts)
    await callback.answer(texts.voice_active.format(name=voice.name))


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.rename), OwnedVoice())
async def ask_new_name(
    callback: CallbackQuery, voice: Voice, state: FSMContext, texts: Texts
) -> None:
    await state.set_state(Rename.waiting_for_name)
    await state.update_data(voice_id=voice.id)
    if callback.message is not None:
        await callback.message.answer(texts.rename_prompt.format(name=voice.name))
    await callback.answer()


@router.message(Rename.waiting_for_name, F.text & ~F.text.startswith("/"))
async def rename_voice(
    message: Message, state: FSMContext, store: Storage, user: User, texts: Texts
) -> None:
    voice_id = (await state.get_data()).get("voice_id")
    try:
        name = clean_voice_name(message.text or "")
        voice = await store.voices.rename(user.id, int(voice_id or 0), name)
    except ValueError as error:
        await message.answer(rename_refusal(error, texts))
        return  # still waiting for a usable name
    await state.clear()
    if voice is None:
        await message.answer(texts.voice_gone)
        return
    await message.answer(texts.rename_done.format(name=voice.name))


def rename_refusal(error: ValueError, texts: Texts) -> str:
    """Why a name was refused, in the user's language (bot/names.py has the rule)."""
    problem = error.problem if isinstance(error, VoiceNameError) else None
    if problem == "empty":
        return texts.rename_empty
    if problem == "marker":
        return texts.rename_marker
    return texts.rename_invalid.format(limit=MAX_VOICE_NAME_CHARS)


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.publish), OwnedVoice())
async def confirm_publish(callback: CallbackQuery, voice: Voice, texts: Texts) -> None:
    markup = keyboards.confirm(voice.id, texts.btn_publish_confirm, VoiceAction.publish_yes, texts)
    await show_screen(callback, texts.publish_confirm.format(name=voice.name), markup)
    await callback.answer()


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.publish_yes))
async def publish(
    callback: CallbackQuery,
    callback_data: VoiceCb,
    store: Storage,
    voices: VoiceService,
    user: User,
    texts: Texts,
) -> None:
    voice = await voices.publish(user, callback_data.voice_id)
    if voice is None:
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    await refresh_card(callback, store, voice, texts)
    await callback.answer(texts.published.format(name=voice.name))


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.withdraw))
async def withdraw(
    callback: CallbackQuery,
    callback_data: VoiceCb,
    store: Storage,
    voices: VoiceService,
    user: User,
    texts: Texts,
) -> None:
    voice = await voices.withdraw(user, callback_data.voice_id)
    if voice is None:
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    await refresh_card(callback, store, voice, texts)
    await callback.answer(texts.withdrawn.format(name=voice.name))


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.delete), OwnedVoice())
async def confirm_delete(callback: CallbackQuery, voice: Voice, texts: Texts) -> None:
    markup = keyboards.confirm(voice.id, texts.btn_yes_delete, VoiceAction.delete_yes, texts)
    await show_screen(callback, texts.delete_confirm.format(name=voice.name), markup)
    await callback.answer()


@router.callback_query(VoiceCb.filter(F.action == VoiceAction.delete_yes), OwnedVoice())
async def delete(
    callback: CallbackQuery,
    voice: Voice,
    store: Storage,
    voices: VoiceService,
    user: User,
    texts: Texts,
) -> None:
    if not await voices.delete(user, voice):  # deleted since the filter
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    text, markup = await voice_list_screen(store, user.id, texts)
    await show_screen(callback, f"{texts.deleted.format(name=voice.name)}\n\n{text}", markup)
    await callback.answer()
