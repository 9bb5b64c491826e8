"""Users: created on first sight, settings kept, active voice only from usable voices."""

from __future__ import annotations

import pytest

from storage import Storage

from .conftest import FakeClock, make_sample


async def test_first_sight_creates_the_user_with_defaults(
    storage: Storage, clock: FakeClock
) -> None:
    assert await storage.users.get(5) is None
    user = await storage.users.ensure(5, "ru")
    assert (user.id, user.language, user.output_format) == (5, "ru", "voice")
    assert user.active_voice_id is None and not user.blocked
    assert user.created_at.timestamp() == clock.now == user.last_seen_at.timestamp()


async def test_seeing_a_user_again_updates_last_seen_not_language(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.users.ensure(5, "ru")
    await storage.users.set_language(5, "en")
    clock.advance(60)
    user = await storage.users.ensure(5, "ru")
    assert user.language == "en"
    assert user.last_seen_at.timestamp() - user.created_at.timestamp() == 60


async def test_output_format_is_voice_or_mp3(storage: Storage) -> None:
    await storage.users.ensure(5)
    user = await storage.users.set_output_format(5, "mp3")
    assert user is not None and user.output_format == "mp3"
    with pytest.raises(ValueError):
        await storage.users.set_output_format(5, "wav")  # type: ignore[arg-type]
    fetched = await storage.users.get(5)
    assert fetched is not None and fetched.output_format == "mp3"


async def test_settings_of_an_unknown_user_change_nothing(storage: Storage) -> None:
    assert await storage.users.set_language(404, "en") is None
    assert await storage.users.set_blocked(404, True) is None
    assert await storage.users.get(404) is None


async def test_blocked_flag_round_trips(storage: Storage) -> None:
    await storage.users.ensure(5)
    blocked = await storage.users.set_blocked(5, True)
    assert blocked is not None and blocked.blocked
    unblocked = await storage.users.set_blocked(5, False)
    assert unblocked is not None and not unblocked.blocked


async def test_active_voice_only_from_own_or_public_voices(storage: Storage) -> None:
    for user_id in (1, 2):
        await storage.users.ensure(user_id)
    private = await storage.voices.create(1, "private", make_sample(1), make_active=False)
    public = await storage.voices.create(1, "public", make_sample(2), make_active=False)
    await storage.voices.publish(1, public.id)

    assert not await storage.users.set_active_voice(2, private.id)
    assert not await storage.users.set_active_voice(2, 999_999)
    user = await storage.users.get(2)
    assert user is not None and user.active_voice_id is None

    assert await storage.users.set_active_voice(2, public.id)
    assert await storage.users.set_active_voice(1, private.id)
    active = await storage.voices.get_active(2)
    assert active is not None and active.id == public.id
    assert await storage.users.set_active_voice(2, None)
    assert await storage.voices.get_active(2) is None


async def test_creating_a_voice_makes_it_active_unless_asked_not_to(storage: Storage) -> None:
    await storage.users.ensure(1)
    first = await storage.voices.create(1, "a", make_sample(1))
    await storage.voices.create(1, "b", make_sample(2), make_active=False)
    user = await storage.users.get(1)
    assert user is not None and user.active_voice_id == first.id


async def test_voices_need_a_known_user(storage: Storage) -> None:
    with pytest.raises(LookupError):
        await storage.voices.create(77, "ghost", make_sample())
    with pytest.raises(LookupError):
        await storage.requests.create(77, None, 10)


async def test_pace_defaults_to_one_and_keeps_within_the_engines_range(
    storage: Storage,
) -> None:
    from storage import PACE_RANGE
    from sv2tts.choices import TEMPO_RANGE

    assert PACE_RANGE == TEMPO_RANGE  # a stored pace is always one the worker can apply
    user = await storage.users.ensure(8)
    assert user.pace == 1.0
    for pace in (0.75, 1.25, 1.5):
        changed = await storage.users.set_pace(8, pace)
        assert changed is not None and changed.pace == pace
    for bad in (0.74, 1.51, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            await storage.users.set_pace(8, bad)
    kept = await storage.users.get(8)
    assert kept is not None and kept.pace == 1.5
    assert await storage.users.set_pace(424242, 1.0) is None  # unknown user
