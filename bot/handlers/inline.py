"""Inline mode: `@bot` in any chat lists the sender's recent voice notes; the chosen one is
sent there, as the voice note (or MP3) it was, by Telegram's file_id (no new upload).

The answer is personal (`is_personal`: Telegram must not show one user's notes to another)
and cached for a few seconds only, so a note made a moment ago appears. Text after `@bot`
filters the notes by their words. Someone with no notes yet gets an empty list with a button
that opens the private chat. (A private deployment's refusal is AccessMiddleware's; it
answers an inline query the same way, with its own button.) Inline mode must be switched on
in @BotFather (/setinline) for Telegram to send these queries at all.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultCachedAudio,
    InlineQueryResultCachedVoice,
    InlineQueryResultsButton,
    InlineQueryResultUnion,
)

from bot.locales import Texts
from storage import Note, Storage, User

log = logging.getLogger(__name__)
router = Router(name="inline")

CACHE_SECONDS = 5
START_PARAMETER = "inline"  # /start inline: where the button over an empty list leads


def duration_text(seconds: float) -> str:
    whole = max(1, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def result_of(note: Note, texts: Texts) -> InlineQueryResultUnion:
    result_id = f"n{note.request_id}"
    if note.file_kind == "audio":  # an MP3 user's note: its title is the file's own
        return InlineQueryResultCachedAudio(id=result_id, audio_file_id=note.file_id)
    length = texts.inline_description.format(duration=duration_text(note.duration))
    return InlineQueryResultCachedVoice(
        id=result_id, voice_file_id=note.file_id, title=f"{note.title} · {length}"
    )


async def answer_empty(query: InlineQuery, button_text: str) -> None:
    await query.answer(
        [],
        cache_time=CACHE_SECONDS,
        is_personal=True,
        button=InlineQueryResultsButton(text=button_text, start_parameter=START_PARAMETER),
    )


@router.inline_query()
async def recent_notes(query: InlineQuery, store: Storage, user: User, texts: Texts) -> None:
    notes = await store.notes.recent(user.id, query.query)
    if not notes:
        await answer_empty(query, texts.inline_make_one)
        return
    log.info("inline query of user %s: %d notes", user.id, len(notes))
    await query.answer(
        [result_of(note, texts) for note in notes], cache_time=CACHE_SECONDS, is_personal=True
    )
