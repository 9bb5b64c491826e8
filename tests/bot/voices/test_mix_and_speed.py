"""/mix and /speed against the fake Bot API: the button flows, their bad input, forged and
stale buttons, and what reaches the synth queue. /stats' median likeness too."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import pytest

from bot.callbacks import MixCb, MixStep, SpeedCb
from storage import Sample, Storage
from sv2tts.audio.measures import RecordingStats
from sv2tts.embedding import blend, cosine_similarity
from tests.bot.conftest import BotHarness, fresh_redis_db, random_embedding, start_bot
from tests.fakes.botapi import FakeBotAPI, FakeUser
from worker.api import SynthRequest

GONE = "This voice is no longer available."
FRESH_BOT_DB = 9  # the fresh bot's own database on the session's Redis server


@pytest.fixture(scope="module")
def fresh_bot(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotHarness]:
    """A bot of its own, with an empty bank: the shared bot's bank fills up with other tests'
    public voices, and /mix counts those as usable."""
    with (
        FakeBotAPI() as api,
        start_bot(
            api,
            fresh_redis_db(redis_url, FRESH_BOT_DB),
            tmp_path_factory.mktemp("fresh-bot-data"),
        ) as harness,
    ):
        harness.set_worker_alive(True)
        yield harness


def seed(bot: BotHarness, owner: FakeUser, name: str, encoder_id: str = "test-seed") -> int:
    """An own voice of `owner` made by `encoder_id` (seed_voice's are all "test-seed")."""
    sample = Sample(
        embedding=random_embedding(zlib.crc32(name.encode())),
        encoder_id=encoder_id,
        recording=RecordingStats(14.0, 12.0, -20.0, 0.0, 0.4),
    )

    async def make(store: Storage) -> int:
        await store.users.ensure(owner.id, owner.language_code or "en")
        return (await store.voices.create(owner.id, name, sample)).id

    return bot.db(make)


def jobs_of(bot: BotHarness, user: FakeUser) -> list[SynthRequest]:
    requests = [SynthRequest.from_dict(job.args[0]) for job in bot.synth_jobs()]
    return [r for r in requests if r.user_id == user.id]


def say_and_take_the_job(bot: BotHarness, user: FakeUser, text: str) -> SynthRequest:
    since = bot.api.mark()
    bot.api.send_command(user, "say", text)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    [request] = jobs_of(bot, user)
    bot.send(user, "/cancel")
    return request


# ------------------------------------------------------------------------------------ /mix


def test_mix_two_voices_with_the_buttons_and_speak_with_the_new_one(bot: BotHarness) -> None:
    user = bot.new_user()
    anna = bot.seed_voice(user, "Anna")
    boris = bot.seed_voice(user, "Boris")
    reply = bot.send(user, "/mix")
    assert "Step 1 of 3: pick the first voice" in reply.text
    labels = [text for text, _ in bot.api.buttons(reply.result)]
    assert labels[:2] == ["🎙 Anna", "🎙 Boris"]  # own voices first

    since = bot.api.mark()
    bot.press(user, "Anna")
    second = bot.edited(user, since)
    assert "First voice: “Anna”" in second.text and "Step 2 of 3" in second.text
    assert "🎙 Anna" not in [t for t, _ in bot.api.buttons(second.result)]
    since = bot.api.mark()
    bot.press(user, "Boris")
    shares = bot.edited(user, since)
    assert "“Anna” + “Boris”" in shares.text and "Step 3 of 3" in shares.text
    assert [t for t, _ in bot.api.buttons(shares.result)][:3] == [
        "75 % Anna + 25 % Boris",
        "50 % Anna + 50 % Boris",
        "25 % Anna + 75 % Boris",
    ]
    since = bot.api.mark()
    answer = bot.press(user, "75 % Anna")
    done = bot.edited(user, since)
    assert "Voice “Mix: Anna + Boris” is ready and active" in done.text
    assert "75 % “Anna” and 25 % “Boris”" in done.text
    assert "reply_markup" not in done.result and "text" not in answer.params

    voices = bot.db(lambda s: s.voices.list_owned(user.id))
    [mixed] = [v for v in voices if v.id not in (anna, boris)]
    assert mixed.name == "Mix: Anna + Boris" and not mixed.public
    first = bot.db(lambda s: s.voices.get_owned(user.id, anna))
    other = bot.db(lambda s: s.voices.get_owned(user.id, boris))
    assert first is not None and other is not None
    np.testing.assert_allclose(
        mixed.embedding, blend(first.embedding, other.embedding, 0.25), atol=1e-7
    )
    assert cosine_similarity(mixed.embedding, first.embedding) > cosine_similarity(
        mixed.embedding, other.embedding
    )
    assert bot.db(lambda s: s.users.get(user.id)).active_voice_id == mixed.id  # type: ignore[union-attr]

    # Its card says what it was made of; it speaks like any other voice.
    bot.send(user, "/voices")
    since = bot.api.mark()
    bot.press(user, "Mix: Anna + Boris")
    card = bot.edited(user, since)
    assert "🧪 mix: 75 % “Anna” + 25 % “Boris”" in card.text and "active" in card.text
    request = say_and_take_the_job(bot, user, "Hello from a mix.")
    assert request.voice_name == "Mix: Anna + Boris"
    np.testing.assert_allclose(request.embedding, mixed.embedding, atol=1e-7)


def test_a_bank_voice_can_be_mixed_in_russian(bot: BotHarness) -> None:
    publisher = bot.new_user()
    bank_id = bot.seed_voice(publisher, "Банковский голос", public=True, active=False)
    user = bot.new_user("ru")
    own = bot.seed_voice(user, "Бабушка Зина")
    message = bot.send(user, "/mix").result
    assert "Шаг 1 из 3" in message["text"]
    since = bot.api.mark()
    data = MixCb(step=MixStep.share, first_id=own, second_id=bank_id, share=25).pack()
    bot.press_data(user, data, message)
    done = bot.edited(user, since)
    assert "Голос «Микс: Бабушка Зина + Банковский голос» готов и выбран" in done.text
    assert "25 % «Бабушка Зина» и 75 % «Банковский голос»" in done.text
    mix = bot.db(lambda s: s.voices.get_active(user.id))
    assert mix is not None and mix.owner_id == user.id
    provenance = bot.db(lambda s: s.mixes.of(mix.id, user.id))
    assert provenance is not None and provenance.first_share == 0.25
    assert provenance.second.voice_id == bank_id
    # The publisher keeps their voice as it was.
    theirs = bot.db(lambda s: s.voices.get_owned(publisher.id, bank_id))
    assert theirs is not None and theirs.public


def test_forged_and_stale_mix_buttons_make_nothing(bot: BotHarness) -> None:
    user, other = bot.new_user(), bot.new_user()
    mine = bot.seed_voice(user, "Mine to mix")
    also_mine = bot.seed_voice(user, "Also mine")
    private = bot.seed_voice(other, "Private of another")
    shared = bot.seed_voice(other, "Shared for a while", public=True)
    message = bot.send(user, "/mix").result
    before = {v.id for v in bot.db(lambda s: s.voices.list_owned(user.id))}

    def press(**fields: int | MixStep) -> dict[str, object]:
        return bot.press_data(user, MixCb(**fields).pack(), message).params  # type: ignore[arg-type]

    for forged in (
        {"step": MixStep.first, "first_id": private},
        {"step": MixStep.second_page, "first_id": private},
        {"step": MixStep.second, "first_id": mine, "second_id": private},
        {"step": MixStep.share, "first_id": private, "second_id": mine, "share": 50},
        {"step": MixStep.share, "first_id": mine, "second_id": 987654, "share": 50},
        {"step": MixStep.share, "first_id": mine, "second_id": also_mine, "share": 60},
    ):
        answer = press(**forged)
        assert answer["text"] == GONE and answer.get("show_alert") in (True, "true"), forged
    same = press(step=MixStep.share, first_id=mine, second_id=mine, share=50)
    assert same["text"] == "Pick two different voices."
    assert bot.press_data(user, "m:zz:1:2:50:0", message).params["text"] == GONE

    # A bank voice picked at step 2 and withdrawn before step 3: stale.
    since = bot.api.mark()
    press(step=MixStep.second, first_id=mine, second_id=shared)
    assert "Step 3 of 3" in bot.edited(user, since).text
    bot.db(lambda s: s.voices.withdraw(other.id, shared))
    answer = bot.press(user, "50 %")
    assert answer.params["text"] == GONE
    assert {v.id for v in bot.db(lambda s: s.voices.list_owned(user.id))} == before
    assert bot.db(lambda s: s.users.get(user.id)).active_voice_id == also_mine  # type: ignore[union-attr]


def test_the_voice_limit_is_said_before_the_first_press(bot: BotHarness) -> None:
    user = bot.new_user()

    async def fill(store: Storage) -> None:
        await store.users.ensure(user.id)
        for n in range(20):  # MAX_VOICES_PER_USER's default
            sample = Sample(
                embedding=random_embedding(n),
                encoder_id="test-seed",
                recording=RecordingStats(14.0, 12.0, -20.0, 0.0, 0.4),
            )
            await store.voices.create(user.id, f"Voice {n}", sample)

    bot.db(fill)
    reply = bot.send(user, "/mix")
    assert "You have 20 voices" in reply.text and "make room for the mix" in reply.text
    assert "reply_markup" not in reply.result


def test_mix_needs_two_usable_voices(fresh_bot: BotHarness) -> None:
    nobody = fresh_bot.new_user()
    need_two = "To mix, I need two voices you can use"
    assert need_two in fresh_bot.send(nobody, "/mix").text
    lonely = fresh_bot.new_user("ru")
    seed(fresh_bot, lonely, "Единственный")
    reply = fresh_bot.send(lonely, "/mix")
    assert "нужны два голоса" in reply.text and "reply_markup" not in reply.result
    # Someone else's private voice does not count; a published one does.
    other = fresh_bot.new_user()
    other_voice = seed(fresh_bot, other, "Someone's")
    assert "нужны два голоса" in fresh_bot.send(lonely, "/mix").text
    fresh_bot.db(lambda s: s.voices.publish(other.id, other_voice))
    assert "Шаг 1 из 3" in fresh_bot.send(lonely, "/mix").text
    fresh_bot.db(lambda s: s.voices.withdraw(other.id, other_voice))


def test_voices_of_different_speaker_models_are_not_offered_and_not_mixed(
    fresh_bot: BotHarness,
) -> None:
    user = fresh_bot.new_user()
    old = seed(fresh_bot, user, "Old model", encoder_id="encoder-v1")
    new = seed(fresh_bot, user, "New model", encoder_id="encoder-v2")
    fresh_bot.send(user, "/mix")
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "Old model")
    screen = fresh_bot.edited(user, since)
    assert "no other voice to mix with “Old model”" in screen.text
    assert [t for t, _ in fresh_bot.api.buttons(screen.result)] == ["⬅️ Back", "Cancel"]
    data = MixCb(step=MixStep.share, first_id=old, second_id=new, share=50).pack()
    answer = fresh_bot.press_data(user, data, screen.result)
    assert "different speaker models" in answer.params["text"]
    assert len(fresh_bot.db(lambda s: s.voices.list_owned(user.id))) == 2
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "Back")
    assert "Step 1 of 3" in fresh_bot.edited(user, since).text
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "Cancel")
    assert fresh_bot.edited(user, since).text == "Nothing was mixed."


def test_the_mix_pickers_page_through_many_voices(fresh_bot: BotHarness) -> None:
    user = fresh_bot.new_user()
    names = [f"Paged {n}" for n in range(11)]  # page size 8
    for name in names:
        seed(fresh_bot, user, name)
    reply = fresh_bot.send(user, "/mix")
    assert "(page 1 of 2)" in reply.text
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "More")
    page = fresh_bot.edited(user, since)
    assert "(page 2 of 2)" in page.text
    seen = [t for t, _ in fresh_bot.api.buttons(reply.result)]
    seen += [t for t, _ in fresh_bot.api.buttons(page.result)]
    assert {f"🎙 {n}" for n in names} <= set(seen)
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "Paged 9")
    second = fresh_bot.edited(user, since)
    assert "(page 1 of 2)" in second.text  # the ten others
    since = fresh_bot.api.mark()
    fresh_bot.press(user, "More", second.result)
    assert "(page 2 of 2)" in fresh_bot.edited(user, since).text


def test_a_mix_card_says_when_a_source_is_gone(bot: BotHarness) -> None:
    user = bot.new_user()
    first = bot.seed_voice(user, "Source kept")
    second = bot.seed_voice(user, "Source deleted")
    message = bot.send(user, "/mix").result
    since = bot.api.mark()
    data = MixCb(step=MixStep.share, first_id=first, second_id=second, share=50).pack()
    bot.press_data(user, data, message)
    bot.edited(user, since)
    bot.db(lambda s: s.voices.delete(user.id, second))
    bot.send(user, "/voices")
    since = bot.api.mark()
    bot.press(user, "Mix: Source kept")
    card = bot.edited(user, since).text
    assert "mix: 50 % “Source kept” + 50 % a voice no longer available" in card


# ----------------------------------------------------------------------------------- /speed


def test_speed_buttons_set_the_pace_that_goes_with_every_request(bot: BotHarness) -> None:
    user = bot.new_user()
    bot.seed_voice(user, "Paced")
    prompt = bot.send(user, "/speed")
    assert "come at 1× (normal)" in prompt.text and "from 0.75× to 1.5×" in prompt.text
    labels = [t for t, _ in bot.api.buttons(prompt.result)]
    assert labels == ["0.75×", "0.9×", "✅ 1×", "1.1×", "1.25×", "1.5×"]
    since = bot.api.mark()
    bot.press(user, "1.25×")
    assert bot.edited(user, since).text == "Done: your voice notes will come at 1.25×."
    assert bot.db(lambda s: s.users.get(user.id)).pace == 1.25  # type: ignore[union-attr]
    assert say_and_take_the_job(bot, user, "A little faster.").pace == 1.25
    assert "✅ 1.25×" in [t for t, _ in bot.api.buttons(bot.send(user, "/speed").result)]


@pytest.mark.parametrize(
    ("argument", "pace"),
    [("0.8", 0.8), ("1,1x", 1.1), ("1.5×", 1.5), ("0.75", 0.75), ("1", 1.0), ("1.234", 1.23)],
)
def test_speed_takes_a_number_as_its_argument(bot: BotHarness, argument: str, pace: float) -> None:
    user = bot.new_user()
    reply = bot.send(user, f"/speed {argument}")
    assert reply.text.startswith("Done: your voice notes will come at")
    assert bot.db(lambda s: s.users.get(user.id)).pace == pace  # type: ignore[union-attr]


def test_speed_refuses_what_is_not_a_pace_and_keeps_the_old_one(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    assert "1,25×" in bot.send(user, "/speed 1,25").text
    for argument in ("2", "0.5", "fast", "nan", "inf", "-1", "1.25.3", "0,74"):
        reply = bot.send(user, f"/speed {argument}")
        assert reply.text.startswith("Темп — это число от 0,75× до 1,5×"), argument
    forged = bot.press_data(user, SpeedCb(pace=3.0).pack(), bot.send(user, "/speed").result)
    assert forged.params["text"].startswith("Темп — это число")
    assert bot.db(lambda s: s.users.get(user.id)).pace == 1.25  # type: ignore[union-attr]


# ------------------------------------------------------------------------- menu, help, stats


def test_the_menu_and_help_name_mix_and_speed_in_both_languages(bot: BotHarness) -> None:
    by_language = {
        c.params.get("language_code"): c.params["commands"]
        for c in bot.api.calls_of("setMyCommands")
    }
    for commands in by_language.values():
        assert {"mix", "speed"} <= {c["command"] for c in commands}
    english = bot.send(bot.new_user(), "/help").text
    russian = bot.send(bot.new_user("ru"), "/help").text
    assert "/mix" in english and "/speed" in english and "likeness" in english
    assert "/mix" in russian and "/speed" in russian and "сходство" in russian


def test_stats_show_the_median_likeness(fresh_bot: BotHarness) -> None:
    user = fresh_bot.new_user()
    voice = seed(fresh_bot, user, "Measured")

    async def finish(store: Storage) -> None:
        for likeness in (0.5, 0.9, 0.7, None):
            request_id = await store.requests.create(user.id, voice, 10)
            await store.requests.mark_finished(request_id, likeness=likeness)

    fresh_bot.db(finish)
    assert "Median likeness: 0.70" in fresh_bot.send(fresh_bot.admin, "/stats").text
