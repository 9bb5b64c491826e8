"""Issue 18, the bot's side: limits count the work (symbols), /dialogue has a turn limit and a
budget on its text, /check passes the gate of every heavy request, forged callback ids are
refused at the filter."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from rq import Queue
from rq.job import Job, JobStatus
from rq.results import Result

from bot import bank_import as bank_import_module
from bot.__main__ import bank_import
from bot.settings import Settings
from bot.text_check import clean_text, symbol_count
from storage import Sample, Storage
from storage.facade import RECORDINGS_DIRNAME
from storage.files import sha256_hex
from sv2tts.audio.measures import RecordingStats
from tests.bot.conftest import BotHarness, random_embedding, wait_until
from tests.fakes.botapi import FakeUser
from worker.api import QUEUE, SERIALIZER, EmbedResult, synth_job_timeout

SEVENS = "777777777777 " * 77  # 1,000 characters once tidied, 10,549 symbols spelled out
GONE = "This voice is no longer available."


def jobs_of(bot: BotHarness, prefix: str, user: FakeUser | None = None) -> list[Job]:
    with bot.redis() as client:
        jobs = Queue(QUEUE, connection=client, serializer=SERIALIZER).get_jobs()
    found = [job for job in jobs if job.id.startswith(prefix)]
    if user is not None and prefix == "synth-":
        found = [job for job in found if job.args[0]["user_id"] == user.id]
    return found


def queued_synth(bot: BotHarness, user: FakeUser, command: str, args: str) -> Job:
    """Send a command that queues speech; its job, once the bot has queued it."""
    since = bot.api.mark()
    bot.api.send_command(user, command, args)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    [job] = jobs_of(bot, "synth-", user)
    return job


# ------------------------------------------------------------------- 6: symbols, not characters


def test_a_text_that_spells_out_past_the_symbol_limit_is_refused_in_those_terms(
    bot: BotHarness,
) -> None:
    symbols = symbol_count(clean_text(SEVENS))
    assert len(clean_text(SEVENS)) <= 1000 < symbols  # passes the character gate
    english, russian = bot.new_user("en"), bot.new_user("ru")
    for user in (english, russian):
        bot.seed_voice(user, f"Sevens {user.id}")
    reply = bot.send(english, f"/say {SEVENS}").text
    assert "spelled out" in reply and f"{symbols} characters" in reply and "1500" in reply
    reply = bot.send(russian, f"/say {SEVENS}").text
    assert "словами" in reply and str(symbols) in reply and "1500" in reply
    assert jobs_of(bot, "synth-", english) == [] and jobs_of(bot, "synth-", russian) == []


def test_the_job_time_budget_counts_the_symbols_the_synthesizer_reads(bot: BotHarness) -> None:
    user = bot.new_user("en")
    bot.seed_voice(user, "Budget voice")
    text = "I paid $1,234.56 on Jan 3rd, 2021 for 12 items."
    job = queued_synth(bot, user, "say", text)
    assert symbol_count(text) > 2 * len(text)
    assert job.timeout == synth_job_timeout(symbol_count(text))
    bot.send(user, "/cancel")


# ------------------------------------------------------------------------------- 7: /dialogue


def test_a_dialogue_of_too_many_turns_is_refused_with_the_limit(bot: BotHarness) -> None:
    user = bot.new_user("en")
    bot.seed_voice(user, "Ann")
    script = "\n".join(f"Ann: line {n}." for n in range(21))
    reply = bot.send(user, f"/dialogue\n{script}").text
    assert "21 turns" in reply and "up to 20" in reply
    assert jobs_of(bot, "synth-", user) == []


def test_a_dialogue_budget_counts_its_text_not_its_names(bot: BotHarness) -> None:
    user = bot.new_user("en")
    first, second = "Bartholomew " * 5, "Maximiliana " * 5
    bot.seed_voice(user, first.strip())
    bot.seed_voice(user, second.strip(), active=False)
    turns = ["Hi.", "Hello.", "Bye."]
    script = f"{first}: {turns[0]}\n{second}: {turns[1]}\n{first}: {turns[2]}"
    job = queued_synth(bot, user, "dialogue", script)
    assert job.timeout == synth_job_timeout(symbol_count("\n".join(turns)))
    bot.send(user, "/cancel")


# --------------------------------------------------------------------- 8: one gate for /check


def voice_note(bot: BotHarness, user: FakeUser) -> dict[str, Any]:
    file_id, _ = bot.api.add_file(b"OggS a voice note, never decoded here")
    return bot.api.voice_update(user, file_id, duration=4)["message"]


def test_a_check_with_a_say_open_is_refused_like_a_second_say(bot: BotHarness) -> None:
    user = bot.new_user("en")
    bot.seed_voice(user, "Gate voice")
    queued_synth(bot, user, "say", "taking my one place")
    since = bot.api.mark()
    bot.api.send_command(user, "check", reply_to=voice_note(bot, user))
    assert "already have a request in progress" in bot.next_message(user, since).text
    assert jobs_of(bot, "check-") == []
    bot.send(user, "/cancel")


def test_a_say_while_a_check_waits_is_refused_until_the_check_ends(bot: BotHarness) -> None:
    user = bot.new_user("en")
    bot.seed_voice(user, "Checker voice")
    since = bot.api.mark()
    bot.api.send_command(user, "check", reply_to=voice_note(bot, user))
    assert "Looking for my watermark" in bot.next_message(user, since).text
    wait_until(lambda: len(jobs_of(bot, "check-")) == 1)
    [check] = jobs_of(bot, "check-")
    assert "already have a request in progress" in bot.send(user, "/say me too").text
    assert jobs_of(bot, "synth-", user) == []
    # The check's job vanishes: the bot stops waiting, and the slot is free again.
    since = bot.api.mark()
    with bot.redis() as client:
        Job.fetch(check.id, connection=client, serializer=SERIALIZER).delete()
    bot.edited(user, since, timeout=15)
    queued_synth(bot, user, "say", "now it is my turn")
    bot.send(user, "/cancel")


# ---------------------------------------------------------------- 10: forged callback data


def test_forged_callback_ids_are_answered_as_a_gone_voice_without_an_error(
    bot: BotHarness,
) -> None:
    user = bot.new_user("en")
    bot.seed_voice(user, "Forgery target")
    message = bot.send(user, "/voices").result
    errors_before = bot.log_text().count(" ERROR ")
    huge = "9" * 30
    for data in (
        f"v:show:{huge}",
        f"v:use:{huge}",
        "v:use:-5",
        "v:show:0",
        f"b:use:{huge}:0",
        f"b:rm:{huge}:0",
        f"b:pg:0:{huge}",
        f"r:merge:{huge}",
        f"m:s:{huge}:1:50:0",
        f"m:pb:1:0:0:{huge}",
        f"x:1:{huge}",
        "x:1:-1",
        "v:show:twelve",
    ):
        answer = bot.press_data(user, data, message)
        assert answer.params["text"] == GONE, data
        assert answer.params.get("show_alert") in (True, "true"), data
    assert bot.log_text().count(" ERROR ") == errors_before, bot.log_text()[-3000:]


# ------------------------------------------- suspected: a bank import beside a live bot


async def test_a_bank_import_leaves_the_recording_store_to_the_live_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bank import may run while the bot writes recordings: it collects no garbage (the bot
    does, at its start), so a file whose row the bot has not committed yet cannot go."""
    data_dir = tmp_path / "data"
    digest = sha256_hex(b"the bot's, row not committed yet")
    theirs = data_dir / RECORDINGS_DIRNAME / digest[:2] / f"{digest}.ogg"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"the bot's, row not committed yet")
    long_ago = time.time() - 24 * 3600  # even an old file: collecting is not the import's job
    os.utime(theirs, (long_ago, long_ago))
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "Narrator.ogg").write_bytes(b"OggS stand-in")

    def make(path: Path) -> Sample:
        stats = RecordingStats(
            total_seconds=6.0,
            speech_seconds=5.0,
            level_dbfs=-20.0,
            clipped_fraction=0.0,
            speech_share=0.9,
        )
        return Sample(embedding=random_embedding(7), encoder_id="test", recording=stats)

    monkeypatch.setattr(bank_import_module, "engine_sample_maker", lambda: make)
    settings = Settings(bot_token=SecretStr("1:import"), data_dir=data_dir)  # type: ignore[call-arg]
    assert await bank_import(settings, folder) == 0
    assert theirs.read_bytes() == b"the bot's, row not committed yet"


# ---------------------------------- suspected: the voice cap passed by a /mix mid-registration


def finish_as_a_worker_would(bot: BotHarness, job_id: str, value: dict[str, Any]) -> None:
    with bot.redis() as client:
        job = Job.fetch(job_id, connection=client, serializer=SERIALIZER)
        Result.create(job, Result.Type.SUCCESSFUL, ttl=120, return_value=value)
        job.set_status(JobStatus.FINISHED)


def test_a_mix_made_while_a_recording_is_listened_to_leaves_the_voice_cap_whole(
    bot: BotHarness,
) -> None:
    cap = 20  # MAX_VOICES_PER_USER's default, which the package's bot runs with
    user = bot.new_user("en")
    stats = RecordingStats(
        total_seconds=6.0,
        speech_seconds=5.0,
        level_dbfs=-20.0,
        clipped_fraction=0.0,
        speech_share=0.9,
    )

    async def nineteen(store: Storage) -> list[int]:
        await store.users.ensure(user.id)
        sample = Sample(embedding=random_embedding(1), encoder_id="test-seed", recording=stats)
        made = [
            await store.voices.create(user.id, f"Own {n}", sample, make_active=False)
            for n in range(cap - 1)
        ]
        return [voice.id for voice in made]

    first, second, *_ = bot.db(nineteen)
    file_id, _ = bot.api.add_file(b"OggS a twentieth voice")
    since = bot.api.mark()
    bot.api.send_voice(user, file_id, duration=5)
    assert "Listening" in bot.next_message(user, since).text
    wait_until(lambda: len(jobs_of(bot, "embed-")) == 1)
    [embed] = jobs_of(bot, "embed-")

    async def mix(store: Storage) -> object:
        return await store.mixes.create(user.id, first, second, 0.5, "Mix", max_voices=cap)

    assert bot.db(mix).voice is not None  # type: ignore[attr-defined]
    result = EmbedResult(
        embedding=[float(x) for x in random_embedding(2)],
        encoder_id="test-seed",
        recording=stats,
        recording_ogg=b"OggS decoded",
    )
    since = bot.api.mark()
    finish_as_a_worker_would(bot, embed.id, result.to_dict())
    assert "the most I can keep" in bot.edited(user, since, timeout=15).text
    assert len(bot.db(lambda s: s.voices.list_owned(user.id))) == cap
