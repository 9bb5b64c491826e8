"""/mix: two voices the user may use (own or from the bank) blended into a new voice of theirs.

Three presses on one message: the first voice, the second, the share of each (75/50/25 %).
Every press names its voices in the payload (`MixCb`), and `UsableVoices` resolves them against
the sender before any handler here runs: a forged or stale button (a voice deleted, withdrawn
from the bank, or someone else's private one) ends at the fallback router's "voice is gone"
alert. Storage checks them once more as it makes the mix (storage/mixes.py), in the same
transaction as the blend itself, which is `sv2tts.embedding.blend`: NumPy only, in the bot, no
worker needed.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import MIX_SHARES, MixCb, MixStep
from bot.filters import UsableVoices
from bot.locales import Texts
from bot.screens import Screen, show_screen
from bot.settings import Settings
from storage import MAX_VOICE_NAME_CHARS, MixRefusal, Storage, User, Voice

log = logging.getLogger(__name__)
router = Router(name="mix")


def with_page(text: str, page: int, pages: int, texts: Texts) -> str:
    return text + texts.mix_page.format(page=page + 1, pages=pages) if pages > 1 else text


def mix_name(first: Voice, second: Voice, texts: Texts) -> str:
    """The new voice's name, "Mix: A + B", with both names cut to fit the name limit."""
    room = (MAX_VOICE_NAME_CHARS - len(texts.mix_default_name.format(first="", second=""))) // 2
    return texts.mix_default_name.format(
        first=keyboards.short(first.name, room), second=keyboards.short(second.name, room)
    )


async def first_screen(
    store: Storage, user: User, page: int, settings: Settings, texts: Texts
) -> Screen:
    found = await store.mixes.candidates(user.id, page, settings.bank_page_size)
    if found.total < 2:
        return texts.mix_need_two, None
    # Said now, not after three presses: a mix is a voice of theirs like any other.
    if len(await store.voices.list_owned(user.id)) >= settings.max_voices_per_user:
        return texts.mix_too_many.format(limit=settings.max_voices_per_user), None
    markup = keyboards.mix_candidates(
        found,
        user.id,
        pick=lambda voice: MixCb(step=MixStep.first, first_id=voice.id),
        turn=lambda to: MixCb(step=MixStep.first_page, page=to),
        texts=texts,
    )
    return with_page(texts.mix_pick_first, found.page, found.pages, texts), markup


async def second_screen(
    store: Storage, user: User, first: Voice, page: int, settings: Settings, texts: Texts
) -> Screen:
    # Only voices of the first one's encoder: a button that would be refused is not offered.
    found = await store.mixes.candidates(
        user.id, page, settings.bank_page_size, encoder_id=first.encoder_id, exclude_id=first.id
    )
    back = MixCb(step=MixStep.first_page)
    if found.total == 0:
        return texts.mix_no_partner.format(first=first.name), keyboards.mix_back(back, texts)
    markup = keyboards.mix_candidates(
        found,
        user.id,
        pick=lambda voice: MixCb(step=MixStep.second, first_id=first.id, second_id=voice.id),
        turn=lambda to: MixCb(step=MixStep.second_page, first_id=first.id, page=to),
        texts=texts,
        back=back,
    )
    text = texts.mix_pick_second.format(first=first.name)
    return with_page(text, found.page, found.pages, texts), markup


@router.message(Command("mix"))
async def mix(
    message: Message, store: Storage, user: User, settings: Settings, texts: Texts
) -> None:
    text, markup = await first_screen(store, user, 0, settings, texts)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MixCb.filter(F.step == MixStep.first_page))
async def turn_first_page(
    callback: CallbackQuery,
    callback_data: MixCb,
    store: Storage,
    user: User,
    settings: Settings,
    texts: Texts,
) -> None:
    text, markup = await first_screen(store, user, callback_data.page, settings, texts)
    await show_screen(callback, text, markup)
    await callback.answer()


@router.callback_query(MixCb.filter(F.step == MixStep.first), UsableVoices("first_id"))
@router.callback_query(MixCb.filter(F.step == MixStep.second_page), UsableVoices("first_id"))
async def pick_second(
    callback: CallbackQuery,
    callback_data: MixCb,
    first: Voice,
    store: Storage,
    user: User,
    settings: Settings,
    texts: Texts,
) -> None:
    page = callback_data.page if callback_data.step is MixStep.second_page else 0
    text, markup = await second_screen(store, user, first, page, settings, texts)
    await show_screen(callback, text, markup)
    await callback.answer()


def refused_pair(first: Voice, second: Voice, texts: Texts) -> str | None:
    """Why these two cannot be mixed (an alert's text), or None if they can."""
    if first.id == second.id:
        return texts.mix_same
    if first.encoder_id != second.encoder_id:
        return texts.mix_encoders
    return None


@router.callback_query(
    MixCb.filter(F.step == MixStep.second), UsableVoices("first_id", "second_id")
)
async def pick_share(
    callback: CallbackQuery, first: Voice, second: Voice, user: User, texts: Texts
) -> None:
    refusal = refused_pair(first, second, texts)
    if refusal is not None:
        log.info("user %s pressed a mix of voices %s and %s: refused", user.id, first.id, second.id)
        await callback.answer(refusal, show_alert=True)
        return
    text = texts.mix_pick_share.format(first=first.name, second=second.name)
    await show_screen(callback, text, keyboards.mix_shares(first, second, texts))
    await callback.answer()


@router.callback_query(
    MixCb.filter((F.step == MixStep.share) & F.share.in_(MIX_SHARES)),
    UsableVoices("first_id", "second_id"),
)
async def make_mix(
    callback: CallbackQuery,
    callback_data: MixCb,
    first: Voice,
    second: Voice,
    store: Storage,
    user: User,
    settings: Settings,
    texts: Texts,
) -> None:
    refusal = refused_pair(first, second, texts)
    if refusal is not None:
        await callback.answer(refusal, show_alert=True)
        return
    share = callback_data.share
    made = await store.mixes.create(
        user.id,
        first.id,
        second.id,
        share / 100,
        mix_name(first, second, texts),
        max_voices=settings.max_voices_per_user,
    )
    if made.voice is None:  # something changed since the filter looked
        alerts = {
            MixRefusal.gone: texts.voice_gone,
            MixRefusal.same: texts.mix_same,
            MixRefusal.encoders: texts.mix_encoders,
            MixRefusal.voices: texts.mix_too_many.format(limit=settings.max_voices_per_user),
        }
        await callback.answer(alerts[made.refusal or MixRefusal.gone], show_alert=True)
        return
    done = texts.mix_done.format(
        name=made.voice.name,
        first_share=share,
        first=first.name,
        second_share=100 - share,
        second=second.name,
    )
    await show_screen(callback, done)
    await callback.answer()


@router.callback_query(MixCb.filter(F.step == MixStep.cancel))
async def cancel_mix(callback: CallbackQuery, texts: Texts) -> None:
    await show_screen(callback, texts.mix_cancelled)
    await callback.answer()
