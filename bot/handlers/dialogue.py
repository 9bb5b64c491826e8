"""/dialogue: a script of `Name: text` lines, spoken in the named voices as one voice note.

The names are looked up without case among the voices the sender may speak with: their own
first (so "Anna" is their Anna even if the bank has one too), then the bank's. An unknown
name is answered with the names that can be used. At most MAX_DIALOGUE_TURNS turns. The
limits of /say apply to everything the script says (its text, not the names: the time budget
too, bot/services/speech.py), and it is one request (one admission: one at a time, one of the
minute's budget), whatever the number of voices. The worker makes each voice's lines in one
batch (worker/dialogue.py).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.locales import Texts
from bot.script import Script, parse_script
from bot.services import Asker, Dialogue, SpeechOrder, SpeechService
from bot.settings import Settings
from bot.text_check import clean_text
from storage import Storage, User, Voice
from sv2tts.text import has_speakable_text
from worker.api import DialogueTurn

log = logging.getLogger(__name__)
router = Router(name="dialogue")

MAX_VOICES = 6  # each voice is a batch and a vocoder run of its own
CHOICES_SHOWN = 12


async def choices_text(store: Storage, user: User, texts: Texts) -> str | None:
    """The names a script may use (own voices, then the bank's), None when there are none."""
    own = await store.voices.list_owned(user.id)
    bank = await store.voices.bank_page(0, page_size=CHOICES_SHOWN)
    by_name: dict[str, str] = {}  # one entry per name: the one a script would get
    for voice in [*own, *bank.voices]:
        by_name.setdefault(voice.name.casefold(), voice.name)
    names = list(by_name.values())
    if not names:
        return None
    shown = ", ".join(names[:CHOICES_SHOWN])
    more = len(names) - CHOICES_SHOWN + max(0, bank.total - len(bank.voices))
    return shown + (texts.dialogue_more_choices.format(more=more) if more > 0 else "")


def cleaned(script: Script) -> Script:
    return Script(
        [type(turn)(turn.name, clean_text(turn.text), turn.line) for turn in script.turns]
    )


@router.message(Command("dialogue"))
async def dialogue(
    message: Message,
    command: CommandObject,
    speech: SpeechService,
    settings: Settings,
    store: Storage,
    user: User,
    texts: Texts,
) -> None:
    parsed = parse_script(command.args or "")
    if parsed is None:
        await message.answer(texts.dialogue_usage)
        return
    if len(parsed.turns) > settings.max_dialogue_turns:
        # Each turn is at least a sentence of its own, and a voice switch in the worker.
        await message.answer(
            texts.dialogue_too_many_turns.format(
                count=len(parsed.turns), limit=settings.max_dialogue_turns
            )
        )
        return
    script = cleaned(parsed)
    checked = speech.check_text(script.spoken_text, texts, usage=texts.dialogue_usage)
    if checked.reply is not None:
        await message.answer(checked.reply)
        return
    for turn in script.turns:
        if not has_speakable_text(turn.text):
            await message.answer(texts.dialogue_empty_turn.format(line=turn.line, name=turn.name))
            return
    names = script.names
    if len(names) > MAX_VOICES:
        await message.answer(
            texts.dialogue_too_many_voices.format(count=len(names), limit=MAX_VOICES)
        )
        return
    found = await store.voices.find_by_names(user.id, names)
    for name in names:
        if name.casefold() not in found:
            choices = await choices_text(store, user, texts)
            if choices is None:
                await message.answer(texts.dialogue_no_choices)
            else:
                await message.answer(texts.dialogue_unknown_name.format(name=name, choices=choices))
            return
    speakers: list[Voice] = [found[name.casefold()] for name in names]
    index = {name.casefold(): i for i, name in enumerate(names)}
    turns = [DialogueTurn(index[t.name.casefold()], t.text) for t in script.turns]
    text = "\n".join(f"{speakers[turn.speaker].name}: {turn.text}" for turn in turns)
    log.info("user %s: a dialogue of %d turns in %d voices", user.id, len(turns), len(names))
    asker = Asker(user, texts, message.chat.id, message.message_id)
    order = SpeechOrder(speakers[0], text, Dialogue(speakers, turns), checked.symbols)
    await speech.request(asker, order)
