"""End to end with a real worker (`python -m worker`: the real encoder, tiny synthesizer and
vocoder): recordings become voices, bad recordings get their reply, /say comes back as a
voice note, and Telegram's refusals on upload are handled. Issue #12: the caption's likeness,
/speed and /mix through the whole stack; a /dialogue is one note, a note made here is checked
as made here (its watermark) and a recording is not, and inline mode offers a note made
before."""

from __future__ import annotations

import base64
import itertools
import socket
import subprocess
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest
from redis import Redis

from storage import ACTIVE_STATUSES, Request, RequestStatus, Storage
from sv2tts.audio.codec import decode_audio, encoded_duration
from sv2tts.encoder.voices import VoiceEncoder
from sv2tts.loading import load_voice_encoder
from tests.bot.conftest import BotHarness, fresh_redis_db, start_bot, wait_until
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser
from tests.fakes.processes import Processes, service_env, wait_for_ready_worker
from tests.fakes.weights import make_tiny_weights_dir

pytestmark = pytest.mark.slow

WORKER_STACK_DB = 5
EMBED_WAIT = 120.0  # a loaded 2-core CI machine; the embedding itself takes about a second


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *args],
        check=True,
        timeout=60,
    )


def as_voice_note(source: Path, dest: Path, *extra: str) -> bytes:
    """OGG/Opus, mono, 48 kHz: what Telegram's apps send as a voice message."""
    ffmpeg("-i", str(source), *extra, "-ac", "1", "-ar", "48000", "-c:a", "libopus", str(dest))
    return dest.read_bytes()


def silence(dest: Path, seconds: float = 4.0) -> bytes:
    ffmpeg(
        "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=mono:d={seconds}", "-c:a", "libopus", str(dest)
    )
    return dest.read_bytes()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def stack(
    redis_url: str, audio_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotHarness]:
    root = tmp_path_factory.mktemp("stack")
    url = fresh_redis_db(redis_url, WORKER_STACK_DB)
    with FakeBotAPI() as api, Processes(root / "logs") as procs:
        env = service_env(
            bot_api=api,
            redis_url=url,
            data_dir=root / "worker-data",
            weights_dir=make_tiny_weights_dir(root / "weights"),
        )
        worker = procs.start_worker(env)
        try:
            with Redis.from_url(url) as client:
                wait_for_ready_worker(client, timeout=240, pid=worker.pid)
        except AssertionError:
            raise AssertionError(f"the worker did not get ready:\n{procs.logs()}") from None
        # Status messages after 1 s and edits every 1 s (3 s in production), so that work of
        # a few seconds shows its progress.
        with start_bot(
            api, url, root / "bot-data", STATUS_EDIT_SECONDS="1", METRICS_PORT=str(free_port())
        ) as harness:
            yield harness
            if not worker.running():
                pytest.fail(f"the worker died:\n{procs.logs()}")


@pytest.fixture(scope="module")
def recordings(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("recordings")
    speech = sorted(audio_dir.glob("*.mp3"))
    return {
        "speech": as_voice_note(speech[0], folder / "a.ogg"),
        "speech_mp3": speech[1].read_bytes(),
        "other_speech": as_voice_note(speech[2], folder / "c.ogg"),
        "short": as_voice_note(speech[0], folder / "short.ogg", "-t", "0.8"),
        "silent": silence(folder / "silent.ogg"),
        "corrupt": b"OggS" + bytes(range(256)) * 40,
    }


def requests_of(stack: BotHarness, user: FakeUser) -> list[Request]:
    """The user's speech request rows, as the bot recorded them."""

    async def rows(store: Storage) -> list[Request]:
        found = [await store.requests.get(i) for i in await store.requests.ids_of(user.id)]
        return [row for row in found if row is not None and row.kind == "synth"]

    return stack.db(rows)


def closed_requests(stack: BotHarness, user: FakeUser, count: int = 1) -> list[Request]:
    """Wait until `count` requests of the user are over (the outcome was recorded)."""

    def over() -> list[Request] | None:
        rows = requests_of(stack, user)
        if len(rows) >= count and all(r.status not in ACTIVE_STATUSES for r in rows):
            return rows
        return None

    wait_until(lambda: over() is not None, timeout=60)
    return over() or []


def register(stack: BotHarness, user: FakeUser, data: bytes, duration: int = 5) -> str:
    """Send a voice note; the text the listening message ends up with."""
    file_id, _ = stack.api.add_file(data, file_path=f"voice/{user.id}-{len(data)}.oga")
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=duration)
    listening = stack.next_message(user, since, timeout=30)
    assert listening.text.startswith("🎧")
    return stack.edited(user, since, timeout=EMBED_WAIT).text


def test_a_voice_note_becomes_the_active_voice(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    since = stack.api.mark()
    reply = register(stack, user, recordings["speech"])
    assert "“Voice 1” is ready and active" in reply and "s of speech" in reply
    assert stack.api.calls_of("getFile", since), "the worker fetches the file itself"
    [voice] = stack.db(lambda s: s.voices.list_owned(user.id))
    assert voice.encoder_id != "test-seed" and voice.sample_count == 1
    assert voice.speech_seconds > 1.0
    assert len(stack.db(lambda s: s.recordings.list_for_voice(voice.id))) == 1
    assert stack.db(lambda s: s.users.get(user.id)).active_voice_id == voice.id  # type: ignore[union-attr]


def test_a_second_recording_can_refine_the_voice_or_make_a_new_one(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user("ru")
    assert "готов и выбран" in register(stack, user, recordings["speech"])
    file_id, _ = stack.api.add_file(recordings["speech_mp3"], file_path="music/x.mp3")
    since = stack.api.mark()
    stack.api.send_audio(user, file_id, duration=5)
    assert "Добавить эту запись" in stack.next_message(user, since).text
    since = stack.api.mark()
    stack.press(user, "Добавить к")
    assert "в нём 2 записи" in stack.edited(user, since, timeout=EMBED_WAIT).text
    [voice] = stack.db(lambda s: s.voices.list_owned(user.id))
    assert voice.sample_count == 2

    file_id, _ = stack.api.add_file(recordings["other_speech"], file_path="voice/other.oga")
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=5)
    stack.next_message(user, since)
    since = stack.api.mark()
    stack.press(user, "Новый голос")
    assert "«Голос 2» готов" in stack.edited(user, since, timeout=EMBED_WAIT).text
    assert [v.name for v in stack.db(lambda s: s.voices.list_owned(user.id))] == [
        "Голос 1",
        "Голос 2",
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("corrupt", "could not read any audio"),
        ("silent", "only silence"),
        ("short", "too little speech in it: I need at least 2 seconds"),
    ],
)
def test_bad_recordings_get_their_reply_and_change_nothing(
    stack: BotHarness, recordings: dict[str, bytes], kind: str, expected: str
) -> None:
    user = stack.new_user()
    assert expected in register(stack, user, recordings[kind])
    assert stack.db(lambda s: s.voices.list_owned(user.id)) == []


def test_say_comes_back_as_a_voice_note(stack: BotHarness, recordings: dict[str, bytes]) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    since = stack.api.mark()
    request = stack.api.send_command(user, "say", "Hello world. This is a test.")
    voice = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )
    assert voice.upload().data[:4] == b"OggS"
    assert voice.params.get("reply_to_message_id") == request["message"]["message_id"] or (
        voice.params.get("reply_parameters", {}).get("message_id")
        == request["message"]["message_id"]
    )
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.done and row.audio_seconds and row.audio_seconds > 0


def test_a_user_who_blocked_the_bot_is_marked_when_the_upload_is_refused(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    since = stack.api.mark()
    stack.api.send_command(user, "say", "Are you still there?")
    stack.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, 30, since)
    stack.api.block(user.id)
    try:
        stack.api.wait_for("sendVoice", lambda c: c.params["chat_id"] == user.id, 180, since)

        def blocked() -> bool:
            found = stack.db(lambda s: s.users.get(user.id))
            return found is not None and found.blocked

        wait_until(blocked, timeout=60)
    finally:
        stack.api.unblock(user.id)
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.failed and row.error_code == "telegram_error"


def test_flood_control_on_upload_is_retried(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    stack.api.fail_next("sendVoice", 429, "Too Many Requests: retry after 1", retry_after=1)
    since = stack.api.mark()
    stack.api.send_command(user, "say", "Patience is a virtue.")
    delivered = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 240, since
    )
    refused = [
        c
        for c in stack.api.calls_of("sendVoice", since)
        if c.params["chat_id"] == user.id and c.error
    ]
    assert refused and refused[0].at < delivered.at
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.done


def redis_holding(stack: BotHarness, needles: list[bytes]) -> list[str]:
    """Every key of the bot's Redis database whose name or value holds one of `needles`."""
    found = []
    with stack.redis() as client:
        for key in client.scan_iter():
            kind = client.type(key)
            if kind == b"string":
                values = [client.get(key) or b""]
            elif kind == b"hash":
                values = [v for pair in client.hgetall(key).items() for v in pair]
            elif kind == b"list":
                values = client.lrange(key, 0, -1)
            elif kind == b"set":
                values = list(client.smembers(key))
            elif kind == b"zset":
                values = client.zrange(key, 0, -1)
            else:  # streams (RQ's results): each entry's fields, the return value decoded
                values = [
                    value
                    for _, entry in client.xrange(key)
                    for value in (*entry.values(), *stream_payloads(entry))
                ]
            blob = key + b"\0" + b"\0".join(values)
            if any(needle in blob for needle in needles):
                found.append(key.decode())
    return found


def stream_payloads(entry: dict[bytes, bytes]) -> list[bytes]:
    """What an RQ result entry hides from a plain search: its return value (base64 of the
    JSON) and its traceback (zlib, then base64)."""
    found = []
    if entry.get(b"return_value"):
        found.append(base64.b64decode(entry[b"return_value"]))
    if entry.get(b"exc_string"):
        found.append(zlib.decompress(base64.b64decode(entry[b"exc_string"])))
    return found


def recording_needles(stack: BotHarness, user: FakeUser) -> list[bytes]:
    """The user's recordings as Redis could hold them: a piece of each, raw and in base64 (as
    in an embed job's result, which holds the decoded recording beside the embedding)."""

    async def recordings_of(store: Storage) -> list[bytes]:
        [voice] = await store.voices.list_owned(user.id)
        return [
            await store.recordings.read(r) for r in await store.recordings.list_for_voice(voice.id)
        ]

    pieces = [ogg[300:360] for ogg in stack.db(recordings_of)]  # 3-byte aligned: base64 matches
    return pieces + [base64.b64encode(piece) for piece in pieces]


def test_after_forget_redis_holds_nothing_of_the_user(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = FakeUser(7_319_426_581, "en", "Forgetful")  # an id no timestamp or count contains
    register(stack, user, recordings["speech"])
    secret = "My secret sentence about zanzibar."
    since = stack.api.mark()
    stack.api.send_command(user, "say", secret)
    stack.api.wait_for("sendVoice", lambda c: c.params["chat_id"] == user.id, EMBED_WAIT, since)
    closed_requests(stack, user)
    # A request that fails for good leaves its job in Redis for a while (for inspection) ...
    stack.api.fail_next("sendVoice", 400, "Bad Request: VOICE_MESSAGES_FORBIDDEN")
    failing = "Another secret that will fail on upload."
    since = stack.api.mark()
    stack.api.send_command(user, "say", failing)
    stack.api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == user.id and "Sorry" in c.text,
        EMBED_WAIT,
        since,
    )
    closed_requests(stack, user, count=2)
    # ... and a recording waiting for "add or new?" sits in Redis too, with its file id.
    pending_file, _ = stack.api.add_file(recordings["other_speech"])
    since = stack.api.mark()
    stack.api.send_voice(user, pending_file, duration=5)
    stack.next_message(user, since)
    needles = [str(user.id).encode(), secret.encode(), failing.encode(), pending_file.encode()]
    assert redis_holding(stack, needles), "the test would find nothing even before /forget"
    # An embed job's result (RQ keeps it in a stream beside the job, two minutes) holds the
    # recording and the embedding: adding a recording to the voice leaves one, as /forget comes.
    since = stack.api.mark()
    stack.press(user, "Add to")
    stack.edited(user, since, timeout=EMBED_WAIT)
    needles += recording_needles(stack, user)
    pending_file, _ = stack.api.add_file(recordings["short"])  # and one waits for a decision
    since = stack.api.mark()
    stack.api.send_voice(user, pending_file, duration=5)
    stack.next_message(user, since)
    needles.append(pending_file.encode())

    stack.send(user, "/forget")
    since = stack.api.mark()
    stack.press(user, "Yes, delete everything")
    stack.edited(user, since)
    # What waited for a worker to let go is cleared by the bot's sweeper (every 10 s).
    wait_until(lambda: not redis_holding(stack, needles), timeout=40)


# ------------------------------------------------------------- issue #12: likeness, pace, mix


def caption_likeness(caption: str) -> float:
    """The figure in a caption's "likeness 0.82" / "сходство 0,82" line."""
    [line] = [x for x in caption.splitlines() if x.startswith(("likeness ", "сходство "))]
    return float(line.split()[1].replace(",", "."))


def voice_note_to(stack: BotHarness, user: FakeUser, since: int) -> Call:
    return stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> VoiceEncoder:
    """The speaker encoder the worker uses (resemblyzer's weights), to check its figures."""
    return load_voice_encoder(tmp_path_factory.mktemp("encoder-only"), device="cpu")


def test_the_caption_shows_the_likeness_measured_on_the_note_itself(
    stack: BotHarness, recordings: dict[str, bytes], listener: VoiceEncoder
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    voice = stack.db(lambda s: s.voices.get_active(user.id))
    assert voice is not None
    since = stack.api.mark()
    stack.api.send_command(user, "say", "Hello world. This is a test.")
    note = voice_note_to(stack, user, since)
    shown = caption_likeness(note.params["caption"])
    assert note.params["caption"] == f"likeness {shown:.2f}"
    [row] = closed_requests(stack, user)
    assert row.likeness is not None and round(row.likeness, 2) == shown
    # The figure is the note's: the note as the user gets it, embedded again here, gives it
    # back (up to the Opus round trip); the recording the voice was made from scores far
    # higher, so a figure copied from the voice, not measured on the output, would show.
    heard = decode_audio(note.upload().data)
    again = listener.likeness(heard, 16000, voice.embedding)
    assert again == pytest.approx(row.likeness, abs=0.05)
    source = listener.likeness(decode_audio(recordings["speech"]), 16000, voice.embedding)
    assert source > 0.9 and source - row.likeness > 0.2


def test_speed_makes_the_same_text_come_back_shorter(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user("ru")
    register(stack, user, recordings["speech"])
    text = "Hello world. This is a test."
    lengths = []
    for pace in ("1", "1,5"):
        assert stack.send(user, f"/speed {pace}").text.startswith("Готово")
        since = stack.api.mark()
        stack.api.send_command(user, "say", text)
        note = voice_note_to(stack, user, since)
        assert note.params["caption"].startswith("сходство 0,")
        lengths.append(encoded_duration(note.upload().data))
        closed_requests(stack, user, count=len(lengths))
    normal, faster = lengths
    # The tiny synthesizer stops at its step cap, so the same text has the same length.
    assert faster == pytest.approx(normal / 1.5, rel=0.03)
    rows = requests_of(stack, user)
    assert [r.status for r in rows] == [RequestStatus.done, RequestStatus.done]


def test_a_mix_of_two_recorded_voices_speaks_with_its_own_likeness(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    since = stack.api.mark()
    file_id, _ = stack.api.add_file(recordings["other_speech"], file_path="voice/second.oga")
    stack.api.send_voice(user, file_id, duration=5)
    stack.next_message(user, since)
    since = stack.api.mark()
    stack.press(user, "New voice")
    assert "“Voice 2” is ready" in stack.edited(user, since, timeout=EMBED_WAIT).text

    stack.send(user, "/mix")
    for label in ("Voice 1", "Voice 2", "50 %"):
        since = stack.api.mark()
        stack.press(user, label)
        screen = stack.edited(user, since)
    assert "Voice “Mix: Voice 1 + Voice 2” is ready and active" in screen.text
    mix = stack.db(lambda s: s.voices.get_active(user.id))
    assert mix is not None and mix.name == "Mix: Voice 1 + Voice 2"
    since = stack.api.mark()
    stack.api.send_command(user, "say", "Two voices in one.")
    note = voice_note_to(stack, user, since)
    row = closed_requests(stack, user)[-1]
    assert row.voice_id == mix.id and row.likeness is not None
    assert caption_likeness(note.params["caption"]) == round(row.likeness, 2)


# --- issue #12: dialogue, watermark and /check, inline mode, with the real worker -----------


@pytest.fixture(scope="module")
def made_note(stack: BotHarness, recordings: dict[str, bytes]) -> tuple[FakeUser, Call, str]:
    """A user, the voice note the worker sent them for a /say, and its text."""
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    text = "A note to share and to check."
    since = stack.api.mark()
    stack.api.send_command(user, "say", text)
    sent = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )
    closed_requests(stack, user)  # its outcome, with the file_id, is recorded
    return user, sent, text


def test_a_dialogue_comes_back_as_one_voice_note_in_its_voices(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])  # "Voice 1"
    stack.seed_voice(None, "Narrator E2E")  # a bank voice
    since = stack.api.mark()
    request = stack.api.send_command(
        user,
        "dialogue",
        "\nVoice 1: Hello there.\nnarrator e2e: Good evening to you.\nvoice 1: Goodbye.",
    )
    sent = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )
    assert sent.params["reply_parameters"]["message_id"] == request["message"]["message_id"]
    note = sent.upload().data
    assert note[:4] == b"OggS" and encoded_duration(note) > 1.0
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.done and row.audio_seconds
    assert len(stack.api.calls_of("sendVoice", since)) == 1  # one note for the whole script


def test_a_note_made_here_is_checked_as_made_here_and_a_recording_is_not(
    stack: BotHarness, recordings: dict[str, bytes], made_note: tuple[FakeUser, Call, str]
) -> None:
    user, sent, _ = made_note
    since = stack.api.mark()
    stack.api.send_command(user, "check", reply_to=sent.result)
    assert "Looking for my watermark" in stack.next_message(user, since).text
    verdict = stack.edited(user, since, timeout=EMBED_WAIT).text
    assert verdict.startswith("✅ Made here"), verdict

    # A real person's recording, forwarded: the bot asks, and the check finds no mark.
    file_id, _ = stack.api.add_file(recordings["other_speech"], file_path="voice/fwd.oga")
    origin = stack.api.forward_origin(FakeUser(515_151, "en", "A friend"))
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=5, forward_origin=origin)
    assert "forwarded voice note" in stack.next_message(user, since).text
    since = stack.api.mark()
    stack.press(user, "Check where it was made")
    verdict = stack.edited(user, since, timeout=EMBED_WAIT).text
    assert verdict.startswith("❌ No watermark of mine found"), verdict
    assert stack.db(lambda s: s.voices.list_owned(user.id))[0].sample_count == 1  # not learned


def test_inline_mode_offers_a_note_made_before_by_its_file_id(
    stack: BotHarness, made_note: tuple[FakeUser, Call, str]
) -> None:
    user, sent, text = made_note
    update = stack.api.send_inline_query(user, "share")
    answer = stack.api.wait_for(
        "answerInlineQuery",
        lambda c: c.params["inline_query_id"] == update["inline_query"]["id"],
        timeout=30,
    )
    assert answer.error is None, answer.error
    [result] = answer.params["results"]
    assert result["type"] == "voice" and result["title"].startswith(text)
    assert result["voice_file_id"] == sent.result["voice"]["file_id"]
    assert stack.api.file_bytes(result["voice_file_id"]) == sent.upload().data


# Issue 21: long work shows where it is. About 150 characters take the tiny models 4-5 s on
# an idle 2-core machine: long enough for a status message (after 1 s here) and edits.
LONG_TEXT = " ".join(
    f"Sentence number {n} is here, read slowly and clearly for the progress test."
    for n in range(1, 3)
)


def status_calls(stack: BotHarness, user: FakeUser, since: int) -> tuple[Call, list[Call]]:
    """The status message sent to `user` since `since` (the one with the Cancel button) and
    the edits of it."""
    sent = [
        c
        for c in stack.api.calls_of("sendMessage", since)
        if c.params.get("chat_id") == user.id
        and "Cancel" in str(c.params.get("reply_markup", ""))
        and c.error is None
    ]
    assert len(sent) == 1, [c.text for c in sent]
    message_id = sent[0].result["message_id"]
    edits = [
        c
        for c in stack.api.calls_of("editMessageText", since)
        if c.params.get("message_id") == message_id and c.error is None
    ]
    return sent[0], edits


def test_a_long_say_shows_a_status_with_its_progress_then_the_note(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    since = stack.api.mark()
    stack.api.send_command(user, "say", LONG_TEXT)
    note = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )
    status, edits = status_calls(stack, user, since)
    assert status.text.startswith("🎙 Making your voice note:") and "%" in status.text
    before_note = [e for e in edits if e.at < note.at]
    assert before_note, "the status was not edited before the note came"
    shown = [c.text for c in [status, *before_note]]
    assert all(a != b for a, b in itertools.pairwise(shown))  # edited only when it changed
    percents = [int(text.split(": ")[1].split(" %")[0]) for text in shown]
    assert percents == sorted(percents) and percents[0] < percents[-1] < 100
    assert any("s left" in c.text for c in [status, *before_note])  # measured on the job
    times = [c.at for c in [status, *edits]]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))  # one a second here
    deleted = stack.api.wait_for(
        "deleteMessage",
        lambda c: c.params.get("message_id") == status.result["message_id"],
        30,
        since,
    )
    assert deleted.at >= note.at
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.done


def test_the_cancel_button_of_a_status_stops_that_request(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    register(stack, user, recordings["speech"])
    since = stack.api.mark()
    stack.api.send_command(user, "say", LONG_TEXT)
    status = stack.api.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == user.id and "Cancel" in str(c.params),
        60,
        since,
    )
    # Someone else's press (a forged button of this request) changes nothing.
    stranger = stack.new_user()
    [(_, data)] = stack.api.buttons(stack.api.message(user.id, status.result["message_id"]))
    refused = stack.press_data(
        stranger, data, stack.api.message(user.id, status.result["message_id"])
    )
    assert "nothing to cancel" in refused.params.get("text", "").lower()
    pressed_at = stack.api.mark()
    stack.press(user, "✖ Cancel", stack.api.message(user.id, status.result["message_id"]))
    cancelled = stack.api.wait_for(
        "editMessageText",
        lambda c: (
            c.params.get("message_id") == status.result["message_id"] and "not be sent" in c.text
        ),
        30,
        pressed_at,
    )
    assert cancelled.params.get("reply_markup") in (None, "", {}, "null") or "Cancel" not in str(
        cancelled.params.get("reply_markup")
    )
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.cancelled
    assert not [c for c in stack.api.calls_of("sendVoice", since) if c.params["chat_id"] == user.id]


def test_text_sent_while_the_first_voice_is_learned_is_spoken_in_it(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    user = stack.new_user()
    file_id, _ = stack.api.add_file(recordings["speech"], file_path=f"voice/{user.id}-w.oga")
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=5)
    assert stack.next_message(user, since, timeout=30).text.startswith("🎧")
    asked = stack.api.mark()
    stack.api.send_text(user, "Are you ready yet?")
    assert "still being learned" in stack.next_message(user, asked, timeout=30).text
    assert "is ready and active" in stack.edited(user, since, timeout=EMBED_WAIT).text
    note = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id and c.error is None, 180, since
    )
    assert note.upload().data[:4] == b"OggS"
    [row] = closed_requests(stack, user)
    assert row.status == RequestStatus.done


def scrape(stack: BotHarness) -> dict[str, float]:
    """The bot's /metrics as {"name{labels}": value}."""
    url = f"http://127.0.0.1:{stack.env['METRICS_PORT']}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain")
        body = answer.read().decode()
    values: dict[str, float] = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_the_metrics_endpoint_counts_a_small_run(
    stack: BotHarness, recordings: dict[str, bytes]
) -> None:
    before = scrape(stack)
    user, other = stack.new_user(), stack.new_user()
    assert "is ready and active" in register(stack, user, recordings["speech"])
    assert "only silence" in register(stack, other, recordings["silent"])
    since = stack.api.mark()
    stack.api.send_command(user, "say", "Counting this one.")
    stack.api.wait_for("sendVoice", lambda c: c.params["chat_id"] == user.id, 180, since)
    closed_requests(stack, user)
    after = scrape(stack)

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew('voiceclone_jobs_total{kind="embed",outcome="ok"}') == 1
    assert grew('voiceclone_jobs_total{kind="embed",outcome="silent"}') == 1
    assert grew('voiceclone_refusals_total{reason="silent"}') == 1
    assert grew('voiceclone_jobs_total{kind="synth",outcome="ok"}') == 1
    for histogram in ("queue_wait_seconds", "synthesis_seconds", "upload_seconds"):
        assert grew(f"voiceclone_{histogram}_count") == 1
        assert grew(f"voiceclone_{histogram}_sum") >= 0
    assert grew("voiceclone_synthesis_seconds_sum") > 0
    assert grew("voiceclone_realtime_factor_count") == 1
    assert after["voiceclone_workers_alive"] == 1
    assert after['voiceclone_queue_depth{kind="speech"}'] == 0
    assert after['voiceclone_queue_depth{kind="recordings"}'] == 0
    assert after["voiceclone_dead_letters"] == 0
