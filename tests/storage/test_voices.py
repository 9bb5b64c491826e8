"""Voices: ownership checked on every action, names stored exactly, deletions propagate."""

from __future__ import annotations

import sqlite3

import pytest

from storage import MAX_VOICE_NAME_CHARS, Storage
from storage.facade import DB_FILENAME

from .conftest import FakeClock, make_sample

OWNER, OTHER = 1, 2


@pytest.fixture
async def two_users(storage: Storage) -> Storage:
    await storage.users.ensure(OWNER)
    await storage.users.ensure(OTHER)
    return storage


async def test_ownership_decides_who_may_use_and_who_may_edit(two_users: Storage) -> None:
    voices = two_users.voices
    private = await voices.create(OWNER, "private", make_sample(1))
    public = await voices.create(OWNER, "public", make_sample(2))
    await voices.publish(OWNER, public.id)

    assert await voices.get_owned(OWNER, private.id) is not None
    assert await voices.get_usable(OWNER, private.id) is not None
    assert await voices.get_owned(OTHER, private.id) is None
    assert await voices.get_usable(OTHER, private.id) is None
    assert await voices.get_usable(OTHER, public.id) is not None
    assert await voices.get_owned(OTHER, public.id) is None
    assert await voices.get_usable(OWNER, 424242) is None
    assert await voices.get_owned(OWNER, 424242) is None
    assert [v.id for v in await voices.list_owned(OWNER)] == [private.id, public.id]
    assert await voices.list_owned(OTHER) == []


async def test_others_cannot_rename_publish_withdraw_delete_or_refine(two_users: Storage) -> None:
    voices = two_users.voices
    voice = await voices.create(OWNER, "mine", make_sample(1))
    public = await voices.create(OWNER, "shared", make_sample(2))
    await voices.publish(OWNER, public.id)

    assert await voices.rename(OTHER, voice.id, "stolen") is None
    assert await voices.publish(OTHER, voice.id) is None
    assert await voices.withdraw(OTHER, public.id) is None
    assert await voices.delete(OTHER, voice.id) is False
    assert await voices.delete(OTHER, public.id) is False
    assert await voices.add_sample(OTHER, public.id, make_sample(3, audio=b"intruder")) is None

    still = await voices.get_owned(OWNER, voice.id)
    assert still is not None and still.name == "mine" and not still.public
    shared = await voices.get_owned(OWNER, public.id)
    assert shared is not None and shared.public and shared.sample_count == 1
    assert await two_users.recordings.list_for_voice(public.id) == []


async def test_publish_records_consent_time_and_withdraw_clears_it(
    two_users: Storage, clock: FakeClock
) -> None:
    voice = await two_users.voices.create(OWNER, "v", make_sample(1))
    assert voice.consent_at is None and not voice.public
    clock.advance(100)
    published = await two_users.voices.publish(OWNER, voice.id)
    assert published is not None and published.public
    assert published.consent_at is not None and published.consent_at.timestamp() == clock.now
    clock.advance(100)
    again = await two_users.voices.publish(OWNER, voice.id)
    assert again is not None and again.consent_at == published.consent_at
    withdrawn = await two_users.voices.withdraw(OWNER, voice.id)
    assert withdrawn is not None and not withdrawn.public and withdrawn.consent_at is None


async def test_withdrawing_takes_the_voice_from_others_but_not_from_the_owner(
    two_users: Storage,
) -> None:
    voice = await two_users.voices.create(OWNER, "v", make_sample(1))
    await two_users.voices.publish(OWNER, voice.id)
    assert await two_users.users.set_active_voice(OTHER, voice.id)
    await two_users.voices.withdraw(OWNER, voice.id)
    other, owner = await two_users.users.get(OTHER), await two_users.users.get(OWNER)
    assert other is not None and other.active_voice_id is None
    assert owner is not None and owner.active_voice_id == voice.id
    assert await two_users.voices.get_active(OTHER) is None


async def test_deleting_a_voice_clears_it_as_anyone_s_active_voice(two_users: Storage) -> None:
    voice = await two_users.voices.create(OWNER, "v", make_sample(1))
    await two_users.voices.publish(OWNER, voice.id)
    await two_users.users.set_active_voice(OTHER, voice.id)
    request_id = await two_users.requests.create(OTHER, voice.id, 10)
    assert await two_users.voices.delete(OWNER, voice.id)
    for user_id in (OWNER, OTHER):
        user = await two_users.users.get(user_id)
        assert user is not None and user.active_voice_id is None
    assert await two_users.voices.get_usable(OWNER, voice.id) is None
    request = await two_users.requests.get(request_id)
    assert request is not None and request.voice_id is None  # history kept, link cut


NAMES = [
    "Robert'); DROP TABLE voices;--",
    "Бабушка Зина",
    "声音 🎙️ 🇷🇺",
    "שלום עולם",
    '50% _off_ \\ "quoted"',
    "  spaced  ",
    "x" * MAX_VOICE_NAME_CHARS,
    "é" * MAX_VOICE_NAME_CHARS,  # 64 characters, 128 bytes
]


@pytest.mark.parametrize("name", NAMES)
async def test_names_are_stored_exactly_as_given(two_users: Storage, name: str) -> None:
    voice = await two_users.voices.create(OWNER, name, make_sample(1))
    fetched = await two_users.voices.get_owned(OWNER, voice.id)
    assert fetched is not None and fetched.name == name
    renamed = await two_users.voices.rename(OWNER, voice.id, name[::-1])
    assert renamed is not None and renamed.name == name[::-1]
    conn = sqlite3.connect(two_users.db_path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"users", "voices", "recordings", "requests"} <= tables


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * (MAX_VOICE_NAME_CHARS + 1), "line\nbreak", "nul\x00"]
)
async def test_unusable_names_are_refused_and_nothing_changes(
    two_users: Storage, name: str
) -> None:
    with pytest.raises(ValueError):
        await two_users.voices.create(OWNER, name, make_sample(1))
    assert await two_users.voices.list_owned(OWNER) == []
    voice = await two_users.voices.create(OWNER, "ok", make_sample(1))
    with pytest.raises(ValueError):
        await two_users.voices.rename(OWNER, voice.id, name)
    fetched = await two_users.voices.get_owned(OWNER, voice.id)
    assert fetched is not None and fetched.name == "ok"


async def test_curated_voices_belong_to_no_user_and_are_public(
    two_users: Storage, clock: FakeClock
) -> None:
    curated = await two_users.voices.create_curated("Narrator", make_sample(5, audio=b"bank"))
    assert curated.owner_id is None and curated.curated and curated.public
    assert curated.consent_at is not None and curated.consent_at.timestamp() == clock.now
    assert await two_users.voices.get_usable(OTHER, curated.id) is not None
    assert await two_users.voices.get_owned(OWNER, curated.id) is None
    assert await two_users.voices.delete(OWNER, curated.id) is False
    found = await two_users.voices.find_curated("Narrator")
    assert found is not None and found.id == curated.id
    assert await two_users.voices.find_curated("narrator") is None


async def test_db_file_is_where_the_facade_says(two_users: Storage) -> None:
    assert two_users.db_path == two_users.data_dir / DB_FILENAME
    assert two_users.db_path.is_file()
