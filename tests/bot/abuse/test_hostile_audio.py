"""The hostile audio corpus through the bot: sent as a user would, answered in their language.

A real worker (`python -m worker`: the real speaker encoder, tiny synthesizer and vocoder) and
the bot run against the loopback Bot API. Each recording of tests/fakes/hostile_audio.py goes
in as a Telegram message, from a user of its own who already has a voice ("Kept", not active)
and uses a curated bank voice; the test checks the bot's final reply, word for word, against
the text bot/locales has for the expected answer, and then that the user's data is intact:
"Kept" unchanged with no recording added, the active voice the same, no new voice, the one
request row closed with the expected error code, no "add or new?" pending, the embed job gone
from Redis. An accepted item becomes a new active voice with its recording, and its request
is done. Files over the declared byte or duration limit, and documents that are not audio,
are answered before anything is downloaded (no getFile for them).

Which items go in as which kind. The kinds differ only in how the bot reads the message
(bot/services/recording_input.py `embed_request_of`: the file id, the declared size, duration and
mime type); the worker then treats the bytes alike. So every item is sent as a voice message,
the kind users send most, and each other kind gets a handful that covers its own paths: an
audio file with a true long duration (refused before download), MP3 and WAV; documents by
mime type and file name (a generic mime with an audio name is read, a text or video document
is refused unread), a declared size that lies (the worker's download stops at the limit); video
notes with no audio track, silence, tone, clipping and a real MP4. The whole matrix, about 130
recordings through one worker on a 2-core machine, would add minutes for no path this subset
leaves out. Then each of the six real recordings in ../shared/audio, converted to OGG/Opus as
Telegram's apps send them, goes in as a voice message and must become a voice.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from bot.background.sweeper import SWEEP_SECONDS
from bot.locales import Texts, texts_for
from service.settings import RecordingLimitSettings
from storage import ACTIVE_STATUSES, Request, RequestStatus, Sample, Storage, Voice
from sv2tts.audio.codec import DEFAULT_TIMEOUT as DECODE_TIMEOUT
from sv2tts.audio.measures import RecordingStats
from tests.bot.conftest import BotHarness, fresh_redis_db, start_bot, wait_until
from tests.conftest import AUDIO
from tests.fakes.botapi import FakeBotAPI, FakeUser
from tests.fakes.hostile_audio import HostileItem, corpus_answers, ffmpeg_bytes, hostile_corpus
from tests.fakes.processes import Processes, service_env, wait_for_ready_worker
from tests.fakes.weights import make_tiny_weights_dir
from worker.api import QUEUE, embed_job_id
from worker.api.keys import PURGE_PENDING

pytestmark = pytest.mark.slow

STACK_DB = 6
SPEECH_SOURCE = "p240_00000.mp3"  # the engine's test makes its speech items from it too
# The stack runs with the default limits (given to both processes, so that nothing in the
# environment changes them); the corpus's over_byte_limit item is one byte over the first.
_LIMITS = RecordingLimitSettings.model_fields
MAX_AUDIO_BYTES: int = _LIMITS["max_audio_bytes"].default
MAX_AUDIO_SECONDS: float = _LIMITS["max_audio_seconds"].default
MIN_SPEECH_SECONDS: float = _LIMITS["min_speech_seconds"].default
LIMITS_ENV = {
    "MAX_AUDIO_BYTES": str(MAX_AUDIO_BYTES),
    "MAX_AUDIO_SECONDS": str(MAX_AUDIO_SECONDS),
    "MIN_SPEECH_SECONDS": str(MIN_SPEECH_SECONDS),
}
ANSWER_WAIT = 90.0  # the bot's embed wait is 60 s; past it the reply would say "timeout"

Kind = Literal["voice", "audio", "document", "video_note"]
# Answers the bot gives before any download: the Texts field of each.
BEFORE_DOWNLOAD = ("file_too_big", "recording_too_long", "not_audio_file")


@dataclass(frozen=True)
class Sending:
    """One corpus item sent as one kind of message, and the answer it must get: a worker
    error code, one of BEFORE_DOWNLOAD, or None (a voice is made)."""

    item: str
    kind: Kind
    answer: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # of the update (mime, name, size)
    duration: int = 5  # declared, as a client says it; the worker measures for itself

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.item}" + ("-lying-size" if "file_size" in self.fields else "")


def voice_answer(name: str, expected: str | None) -> str | None:
    # Telegram declares a file's true size, so the bot refuses this one before any download.
    return "file_too_big" if name == "over_byte_limit" else expected


SENDINGS = [
    Sending(name, "voice", voice_answer(name, code)) for name, code in corpus_answers().items()
]
SENDINGS += [
    Sending("music", "audio", "no_speech", {"mime_type": "audio/mpeg", "file_name": "song.mp3"}),
    Sending("truncated_mp3", "audio", "too_short", {"mime_type": "audio/mpeg"}),
    Sending("wav_rate_one_hz", "audio", "too_long", {"mime_type": "audio/wav"}),
    Sending("speech_at_384khz", "audio", None, {"mime_type": "audio/wav", "file_name": "a.wav"}),
    # Its true duration is declared: refused before download.
    Sending("hour_of_silence", "audio", "recording_too_long", {"mime_type": "audio/flac"}, 3600),
    Sending(
        "random_bytes",
        "document",
        "not_audio",
        {"mime_type": "application/octet-stream", "file_name": "recording.ogg"},
    ),
    Sending(
        "ffconcat_playlist",
        "document",
        "not_audio",
        {"mime_type": "audio/x-mpegurl", "file_name": "list.m3u"},
    ),
    Sending("drums", "document", "no_speech", {"mime_type": "audio/flac", "file_name": "d.flac"}),
    Sending(
        "speech_in_8_channels",
        "document",
        None,
        {"mime_type": "audio/flac", "file_name": "surround.flac"},
    ),
    Sending(
        "text_file",
        "document",
        "not_audio_file",
        {"mime_type": "text/plain", "file_name": "notes.txt"},
    ),
    Sending(
        "video_without_audio",
        "document",
        "not_audio_file",
        {"mime_type": "video/mp4", "file_name": "clip.mp4"},
    ),
    Sending(
        "over_byte_limit",
        "document",
        "file_too_big",
        {"mime_type": "audio/wav", "file_name": "big.wav"},
    ),
    # A declared size that lies: the bot lets it through, the worker's download stops at the
    # limit whatever the headers said.
    Sending(
        "over_byte_limit",
        "document",
        "too_large",
        {"mime_type": "audio/wav", "file_name": "big.wav", "file_size": 4096},
    ),
    Sending("video_without_audio", "video_note", "not_audio"),
    Sending("silence", "video_note", "silent"),
    Sending("tone", "video_note", "no_speech"),
    Sending("sub_second_speech", "video_note", "too_short"),
    Sending("clipped_speech", "video_note", "clipped"),
    Sending("speech_video_note", "video_note", None),  # a real MP4: video and speech
]


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotHarness]:
    root = tmp_path_factory.mktemp("hostile-stack")
    url = fresh_redis_db(redis_url, STACK_DB)
    with FakeBotAPI() as api, Processes(root / "logs") as procs:
        env = service_env(
            bot_api=api,
            redis_url=url,
            data_dir=root / "worker-data",
            weights_dir=make_tiny_weights_dir(root / "weights"),
            **LIMITS_ENV,
        )
        worker = procs.start_worker(env)
        try:
            with Redis.from_url(url) as client:
                wait_for_ready_worker(client, timeout=240, pid=worker.pid)
        except AssertionError:
            raise AssertionError(f"the worker did not get ready:\n{procs.logs()}") from None
        with start_bot(api, url, root / "bot-data", **LIMITS_ENV) as harness:
            yield harness
            if not worker.running():
                pytest.fail(f"the worker died:\n{procs.logs()}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HostileItem]:
    workdir = tmp_path_factory.mktemp("hostile-corpus")
    speech = AUDIO / SPEECH_SOURCE
    items = hostile_corpus(workdir, speech if speech.is_file() else None, max_bytes=MAX_AUDIO_BYTES)
    found = {item.name: item for item in items}
    if speech.is_file():
        video = ffmpeg_bytes(
            *("-f", "lavfi", "-i", "color=c=black:s=240x240:r=15", "-i", str(speech)),
            *("-shortest", "-c:v", "mpeg4", "-c:a", "aac", "-f", "mp4"),
            suffix=".mp4",
            workdir=workdir,
        )
        found["speech_video_note"] = HostileItem("speech_video_note", video, None)
    return found


@pytest.fixture(scope="module")
def curated(stack: BotHarness, corpus: dict[str, HostileItem]) -> int:
    """The bank voice every test user speaks with. Also warms the worker up: its first
    recording pays for loading the encoder, which no item's answer time should include."""
    warm = stack.new_user()
    seed_user(stack, warm, None)
    if "speech_at_4khz" in corpus:
        reply = send(stack, warm, Sending("speech_at_4khz", "voice", None), corpus)
        assert reply.startswith("✅"), reply
    return stack.seed_voice(None, "Hostile bank voice")


def seed_user(stack: BotHarness, user: FakeUser, active_id: int | None) -> int:
    """The user with one own voice, "Kept" (not active), and `active_id` active."""
    vector = np.random.default_rng(user.id).standard_normal(256).astype(np.float32)
    sample = Sample(
        vector / np.linalg.norm(vector),
        "test-seed",
        recording=RecordingStats(10.0, 9.0, -20.0, 0.0, 0.4),
    )

    async def seed(store: Storage) -> int:
        await store.users.ensure(user.id, user.language_code or "en")
        kept = await store.voices.create(user.id, "Kept", sample, make_active=False)
        await store.users.set_active_voice(user.id, active_id)
        return kept.id

    return stack.db(seed)


def send(
    stack: BotHarness, user: FakeUser, sending: Sending, corpus: dict[str, HostileItem]
) -> str:
    """Push the message; the bot's final answer (the listening message's last text, or the
    reply it gave at once)."""
    data = corpus[sending.item].data
    fields = dict(sending.fields)
    # A lying size is what the message and getFile both say; the download serves the bytes.
    stored_size = fields.pop("file_size", None)
    file_id, _ = stack.api.add_file(
        data, file_path=f"{sending.kind}/{user.id}.bin", file_size=stored_size
    )
    since = stack.api.mark()
    senders: dict[Kind, Callable[..., Any]] = {
        "voice": stack.api.send_voice,
        "audio": stack.api.send_audio,
        "document": stack.api.send_document,
        "video_note": stack.api.send_video_note,
    }
    if sending.kind != "document":
        fields["duration"] = sending.duration
    senders[sending.kind](user, file_id, **fields)
    first = stack.next_message(user, since, timeout=30)
    if first.text != texts_for(user.language_code).listening:
        return first.text
    message_id = first.result["message_id"]
    return stack.api.wait_for(
        "editMessageText",
        lambda c: c.params.get("chat_id") == user.id and c.params.get("message_id") == message_id,
        ANSWER_WAIT,
        since,
    ).text


def expected_reply(answer: str, texts: Texts) -> str:
    if answer == "file_too_big":
        return texts.file_too_big.format(limit_mb=MAX_AUDIO_BYTES // (1024 * 1024))
    if answer == "recording_too_long":
        return texts.recording_too_long.format(limit=MAX_AUDIO_SECONDS)
    if answer == "not_audio_file":
        return texts.not_audio_file
    return texts.embed_errors[answer].format(min=MIN_SPEECH_SECONDS, limit=MAX_AUDIO_SECONDS)


def registered_replies(voice: Voice, texts: Texts) -> set[str]:
    """What the bot says for a new voice: the template with its duration, any hint."""
    hints = (texts.hint_good, texts.hint_quiet, texts.hint_clipped, texts.hint_short)
    speech = texts.seconds(voice.speech_seconds)
    return {texts.voice_registered.format(name=voice.name, speech=speech, hint=h) for h in hints}


@dataclass
class Account:
    voices: list[Voice]
    active_id: int | None
    requests: list[Request]
    recordings: dict[int, int]  # voice id -> recordings kept


def account_of(stack: BotHarness, user: FakeUser) -> Account:
    async def read(store: Storage) -> Account:
        voices = await store.voices.list_owned(user.id)
        found = await store.users.get(user.id)
        requests = [await store.requests.get(i) for i in await store.requests.ids_of(user.id)]
        recordings = {v.id: len(await store.recordings.list_for_voice(v.id)) for v in voices}
        return Account(
            voices,
            found.active_voice_id if found else None,
            [r for r in requests if r is not None],
            recordings,
        )

    return stack.db(read)


def closed_account(stack: BotHarness, user: FakeUser) -> Account:
    """The account once the bot has closed the request (just after its last reply)."""
    wait_until(
        lambda: all(r.status not in ACTIVE_STATUSES for r in account_of(stack, user).requests),
        timeout=20,
    )
    return account_of(stack, user)


def in_redis(stack: BotHarness, key: str) -> bool:
    with stack.redis() as client:
        return bool(client.exists(key))


def job_purged_or_due(stack: BotHarness, job_id: str) -> bool:
    """The embed job (its payload and result) is gone from Redis, or is queued for the bot's
    sweeper to purge: a worker that has just finished a job still holds its lease for a moment,
    and the bot does not delete a job under a lease (worker/api/calls.py `purge`)."""
    with stack.redis() as client:
        return not client.exists(Job.key_for(job_id)) or bool(
            client.sismember(PURGE_PENDING, job_id)
        )


def check_one(
    stack: BotHarness,
    corpus: dict[str, HostileItem],
    curated: int,
    sending: Sending,
    language: str,
) -> None:
    if sending.item not in corpus:
        pytest.skip(f"{sending.item} is made from {SPEECH_SOURCE}, absent (../shared/audio)")
    texts = texts_for(language)
    user = stack.new_user(language)
    kept_id = seed_user(stack, user, curated)
    before = account_of(stack, user)
    since = stack.api.mark()
    started = time.monotonic()
    reply = send(stack, user, sending, corpus)
    elapsed = time.monotonic() - started
    after = closed_account(stack, user)

    kept = [v for v in after.voices if v.id == kept_id]
    assert kept == before.voices and after.recordings[kept_id] == 0, "Kept must not change"
    np.testing.assert_array_equal(kept[0].embedding, before.voices[0].embedding)
    assert not in_redis(stack, f"voiceclone:bot:pending:{user.id}")
    if sending.answer in BEFORE_DOWNLOAD:
        assert reply == expected_reply(sending.answer, texts)
        assert stack.api.calls_of("getFile", since) == []
        assert stack.api.calls_of("download", since) == []
        assert after == before  # no request row, nothing else
        return
    [request] = after.requests
    assert job_purged_or_due(stack, embed_job_id(request.id))
    assert elapsed < DECODE_TIMEOUT, f"answered after {elapsed:.1f} s"
    if sending.answer is None:
        [new] = [v for v in after.voices if v.id != kept_id]
        assert reply in registered_replies(new, texts), reply
        assert new.sample_count == 1 and new.encoder_id != "test-seed"
        assert after.active_id == new.id and after.recordings[new.id] == 1
        assert request.status == RequestStatus.done
        return
    assert reply == expected_reply(sending.answer, texts), reply
    assert after.voices == before.voices and after.active_id == curated
    assert (request.status, request.error_code) == (RequestStatus.failed, sending.answer)


@pytest.mark.parametrize("sending", SENDINGS, ids=[s.id for s in SENDINGS])
def test_each_recording_gets_its_localized_answer_and_leaves_the_data_intact(
    stack: BotHarness,
    corpus: dict[str, HostileItem],
    curated: int,
    sending: Sending,
) -> None:
    language = "ru" if SENDINGS.index(sending) % 2 else "en"
    check_one(stack, corpus, curated, sending, language)


REAL = sorted(p.name for p in AUDIO.glob("*.mp3")) or ["(absent)"]


@pytest.mark.parametrize("name", REAL)
def test_each_real_recording_as_a_voice_message_becomes_a_voice(
    stack: BotHarness,
    corpus: dict[str, HostileItem],
    curated: int,
    audio_dir: Path,
    tmp_path: Path,
    name: str,
) -> None:
    note = ffmpeg_bytes(
        *("-i", str(audio_dir / name), "-ac", "1", "-ar", "48000", "-c:a", "libopus"),
        suffix=".ogg",
        workdir=tmp_path,
    )
    corpus[f"real:{name}"] = HostileItem(f"real:{name}", note, None)
    check_one(stack, corpus, curated, Sending(f"real:{name}", "voice", None), "en")


def test_nothing_is_left_open_after_the_corpus(stack: BotHarness) -> None:
    open_rows = stack.db(lambda s: s.requests.list_open())
    assert open_rows == []

    def embed_jobs_left() -> list[bytes]:
        with stack.redis() as client:
            return client.keys("rq:job:embed-*") + list(client.smembers(PURGE_PENDING))

    # The sweeper purges what waited for a worker's lease within a round or two.
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not embed_jobs_left(), timeout=3 * SWEEP_SECONDS)
    with stack.redis() as client:
        left = {k: (client.hgetall(k), client.ttl(k)) for k in client.keys("rq:job:embed-*")}
        assert left == {} and not client.smembers(PURGE_PENDING), left
    with stack.redis() as client:
        assert client.keys("voiceclone:bot:pending:*") == []
        assert client.llen(Queue(QUEUE, connection=client).key) == 0
    # The bot's and the worker's messages alike are plain text: a name is never markup.
    assert not [c.method for c in stack.api.calls if "parse_mode" in c.params]
