"""Mixed voices: blended from two usable voices, kept with their provenance, refused otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from storage import MixRefusal, Storage
from sv2tts.embedding import blend, cosine_similarity

from .conftest import make_sample

OWNER, OTHER = 1, 2
LIMIT = 20


@pytest.fixture
async def two_users(storage: Storage) -> Storage:
    await storage.users.ensure(OWNER)
    await storage.users.ensure(OTHER)
    return storage


async def test_a_mix_is_the_normalised_weighted_mean_and_keeps_its_provenance(
    two_users: Storage,
) -> None:
    own = await two_users.voices.create(OWNER, "Anna", make_sample(1, speech_seconds=6.0))
    bank = await two_users.voices.create(OTHER, "Boris", make_sample(2, speech_seconds=9.0))
    await two_users.voices.publish(OTHER, bank.id)

    made = await two_users.mixes.create(
        OWNER, own.id, bank.id, 0.75, "Mix: Anna + Boris", max_voices=LIMIT
    )
    assert made.refusal is None and made.voice is not None
    voice = made.voice
    expected = 0.75 * own.embedding.astype(np.float64) + 0.25 * bank.embedding
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(voice.embedding, expected, atol=1e-6)
    assert np.linalg.norm(voice.embedding) == pytest.approx(1.0, abs=1e-6)
    # Three quarters of the first: closer to it than to the second.
    assert cosine_similarity(voice.embedding, own.embedding) > cosine_similarity(
        voice.embedding, bank.embedding
    )
    assert (voice.owner_id, voice.public, voice.curated) == (OWNER, False, False)
    assert voice.encoder_id == own.encoder_id and voice.sample_count == 0
    assert voice.speech_seconds == pytest.approx(15.0)
    user = await two_users.users.get(OWNER)
    assert user is not None and user.active_voice_id == voice.id

    mix = await two_users.mixes.of(voice.id, OWNER)
    assert mix is not None
    assert (mix.first.voice_id, mix.first.name) == (own.id, "Anna")
    assert (mix.second.voice_id, mix.second.name) == (bank.id, "Boris")
    assert (mix.first_share, mix.second_share) == (0.75, 0.25)
    assert await two_users.mixes.of(own.id, OWNER) is None  # a recorded voice is no mix


async def test_the_blend_matches_the_engines_definition_for_every_share(
    two_users: Storage,
) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(3))
    b = await two_users.voices.create(OWNER, "b", make_sample(4))
    for share in (0.25, 0.5, 0.75):
        made = await two_users.mixes.create(OWNER, a.id, b.id, share, "m", max_voices=LIMIT)
        assert made.voice is not None
        np.testing.assert_allclose(
            made.voice.embedding, blend(a.embedding, b.embedding, 1 - share), atol=1e-7
        )


async def test_a_mixed_voice_is_renamed_published_and_deleted_like_any_other(
    two_users: Storage,
) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(5))
    b = await two_users.voices.create(OWNER, "b", make_sample(6))
    made = await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "m", max_voices=LIMIT)
    assert made.voice is not None
    renamed = await two_users.voices.rename(OWNER, made.voice.id, "Blend")
    assert renamed is not None and renamed.name == "Blend"
    published = await two_users.voices.publish(OWNER, made.voice.id)
    assert published is not None and published.public
    assert await two_users.voices.get_usable(OTHER, made.voice.id) is not None
    assert await two_users.voices.delete(OWNER, made.voice.id)
    assert await two_users.mixes.of(made.voice.id, OWNER) is None  # provenance went with it


async def test_voices_the_user_may_not_use_are_refused_and_nothing_is_written(
    two_users: Storage,
) -> None:
    own = await two_users.voices.create(OWNER, "mine", make_sample(7))
    private = await two_users.voices.create(OTHER, "theirs", make_sample(8))
    before = await two_users.voices.list_owned(OWNER)
    for first, second in ((own.id, private.id), (private.id, own.id), (own.id, 987654)):
        made = await two_users.mixes.create(OWNER, first, second, 0.5, "m", max_voices=LIMIT)
        assert (made.voice, made.refusal) == (None, MixRefusal.gone)
    same = await two_users.mixes.create(OWNER, own.id, own.id, 0.5, "m", max_voices=LIMIT)
    assert same.refusal is MixRefusal.same
    assert await two_users.voices.list_owned(OWNER) == before
    user = await two_users.users.get(OWNER)
    assert user is not None and user.active_voice_id == own.id


async def test_voices_of_different_encoders_do_not_mix(two_users: Storage) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(9, encoder_id="enc-1"))
    b = await two_users.voices.create(OWNER, "b", make_sample(10, encoder_id="enc-2"))
    made = await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "m", max_voices=LIMIT)
    assert made.refusal is MixRefusal.encoders
    assert len(await two_users.voices.list_owned(OWNER)) == 2


async def test_the_voice_limit_holds_for_mixes(two_users: Storage) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(11))
    b = await two_users.voices.create(OWNER, "b", make_sample(12))
    made = await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "m", max_voices=2)
    assert made.refusal is MixRefusal.voices
    assert (await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "m", max_voices=3)).voice


async def test_bad_shares_and_names_are_errors(two_users: Storage) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(13))
    b = await two_users.voices.create(OWNER, "b", make_sample(14))
    for share in (0.0, 1.0, -0.5, float("nan")):
        with pytest.raises(ValueError):
            await two_users.mixes.create(OWNER, a.id, b.id, share, "m", max_voices=LIMIT)
    with pytest.raises(ValueError):
        await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "", max_voices=LIMIT)


async def mix_of_bank_voice(two_users: Storage) -> tuple[int, int, int]:
    """OWNER's mix of their own voice and OTHER's public one, and a mix of that mix made by
    OTHER: (bank voice id, mix id, mix-of-mix id)."""
    own = await two_users.voices.create(OWNER, "mine", make_sample(15))
    bank = await two_users.voices.create(OTHER, "Grandma Zina", make_sample(16))
    await two_users.voices.publish(OTHER, bank.id)
    made = await two_users.mixes.create(OWNER, own.id, bank.id, 0.5, "m", max_voices=LIMIT)
    assert made.voice is not None
    await two_users.voices.publish(OWNER, made.voice.id)
    third = await two_users.voices.create(OTHER, "third", make_sample(17))
    again = await two_users.mixes.create(
        OTHER, third.id, made.voice.id, 0.5, "mm", max_voices=LIMIT
    )
    assert again.voice is not None
    assert await two_users.mixes.lineage(again.voice.id) == [
        again.voice.id,
        third.id,
        made.voice.id,
        own.id,
        bank.id,
    ]
    return bank.id, made.voice.id, again.voice.id


@pytest.mark.parametrize("taken_back", ["withdrawn", "deleted", "forgotten", "removed-by-admin"])
async def test_a_mix_of_another_users_voice_goes_when_that_voice_is_taken_back(
    two_users: Storage, taken_back: str
) -> None:
    bank, mix, mix_of_mix = await mix_of_bank_voice(two_users)
    if taken_back == "withdrawn":
        await two_users.voices.withdraw(OTHER, bank)
    elif taken_back == "deleted":
        assert await two_users.voices.delete(OTHER, bank)
    elif taken_back == "forgotten":
        await two_users.forget(OTHER)
    else:
        assert await two_users.voices.remove_from_bank(bank)
    assert await two_users.voices.get_unchecked(mix) is None
    assert await two_users.voices.get_unchecked(mix_of_mix) is None  # it held the voice too


async def test_a_mix_of_ones_own_voices_stays_when_a_source_is_withdrawn_or_deleted(
    two_users: Storage,
) -> None:
    first = await two_users.voices.create(OWNER, "one", make_sample(21))
    second = await two_users.voices.create(OWNER, "two", make_sample(22))
    await two_users.voices.publish(OWNER, first.id)
    made = await two_users.mixes.create(OWNER, first.id, second.id, 0.5, "m", max_voices=LIMIT)
    assert made.voice is not None
    embedding = made.voice.embedding.copy()
    await two_users.voices.withdraw(OWNER, first.id)
    assert await two_users.voices.delete(OWNER, second.id)
    mix = await two_users.mixes.of(made.voice.id, OWNER)
    assert mix is not None and mix.first.name == "one" and mix.second.voice_id is None
    kept = await two_users.voices.get_owned(OWNER, made.voice.id)
    assert kept is not None and kept.embedding.tobytes() == embedding.tobytes()


async def test_candidates_are_own_voices_first_then_the_bank_of_one_encoder(
    two_users: Storage,
) -> None:
    own_b = await two_users.voices.create(OWNER, "b own", make_sample(17))
    own_a = await two_users.voices.create(OWNER, "a own", make_sample(18))
    foreign = await two_users.voices.create(
        OWNER, "z other encoder", make_sample(19, encoder_id="x")
    )
    public = await two_users.voices.create(OTHER, "a public", make_sample(20))
    await two_users.voices.publish(OTHER, public.id)
    await two_users.voices.create(OTHER, "private", make_sample(21))
    curated = await two_users.voices.create_curated("curated", make_sample(22))

    page = await two_users.mixes.candidates(OWNER, page_size=10)
    assert [v.id for v in page.voices] == [own_a.id, own_b.id, foreign.id, curated.id, public.id]
    page = await two_users.mixes.candidates(
        OWNER, page_size=10, encoder_id="enc-test", exclude_id=own_a.id
    )
    assert [v.id for v in page.voices] == [own_b.id, curated.id, public.id]
    first = await two_users.mixes.candidates(OWNER, page=0, page_size=2)
    last = await two_users.mixes.candidates(OWNER, page=99, page_size=2)
    assert (first.total, first.pages, last.page) == (5, 3, 2)
    assert [v.id for v in last.voices] == [public.id]
    assert (await two_users.mixes.candidates(OTHER, page_size=10)).total == 3


async def test_forgetting_the_owner_takes_the_mix_and_its_provenance(two_users: Storage) -> None:
    a = await two_users.voices.create(OWNER, "a", make_sample(23))
    b = await two_users.voices.create(OWNER, "b", make_sample(24))
    made = await two_users.mixes.create(OWNER, a.id, b.id, 0.5, "m", max_voices=LIMIT)
    assert made.voice is not None
    report = await two_users.forget(OWNER)
    assert report.voices == 3
    assert await two_users.mixes.of(made.voice.id, OWNER) is None
    assert await two_users.voices.get_unchecked(made.voice.id) is None
