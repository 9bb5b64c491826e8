"""The bank: public voices only, in one stable order, searchable by name in any script."""

from __future__ import annotations

import pytest

from storage import Storage, Voice

from .conftest import make_sample

NAMES = ["bob", "Alice", "alice", "Émile", "Анна", "анна", "Борис", "Zed", "bob", "ALICE", "李"]


async def fill_bank(storage: Storage) -> tuple[list[Voice], list[Voice]]:
    """Public user voices, curated voices, and private ones that must never show."""
    await storage.users.ensure(1)
    await storage.users.ensure(2)
    public: list[Voice] = []
    for i, name in enumerate(NAMES):
        voice = await storage.voices.create(1 + i % 2, name, make_sample(i), make_active=False)
        published = await storage.voices.publish(voice.owner_id or 0, voice.id)
        assert published is not None
        public.append(published)
    for i in range(3):
        public.append(await storage.voices.create_curated(f"curated {2 - i}", make_sample(100 + i)))
    private = [
        await storage.voices.create(1, "alice private", make_sample(200), make_active=False),
        await storage.voices.create(2, "Анна private", make_sample(201), make_active=False),
    ]
    return public, private


def bank_order(voices: list[Voice]) -> list[int]:
    ordered = sorted(voices, key=lambda v: (not v.curated, v.name.casefold(), v.id))
    return [v.id for v in ordered]


async def all_pages(storage: Storage, page_size: int, query: str | None = None) -> list[int]:
    ids: list[int] = []
    page = 0
    while True:
        result = await storage.voices.bank_page(page, page_size, query)
        assert len(result.voices) <= page_size
        ids.extend(v.id for v in result.voices)
        if not result.has_next:
            return ids
        page += 1


@pytest.mark.parametrize("page_size", [1, 3, 5, 8, 50])
async def test_pages_cover_every_public_voice_once_in_a_stable_order(
    storage: Storage, page_size: int
) -> None:
    public, private = await fill_bank(storage)
    first = await all_pages(storage, page_size)
    assert first == bank_order(public)  # curated first, then name without case, then id
    assert len(first) == len(set(first))
    assert not {v.id for v in private} & set(first)
    assert await all_pages(storage, page_size) == first  # same again
    page = await storage.voices.bank_page(0, page_size)
    assert page.total == len(public)
    assert page.pages == -(-len(public) // page_size)


async def test_equal_names_keep_their_places_between_pages(storage: Storage) -> None:
    await storage.users.ensure(1)
    ids = []
    for i in range(7):
        voice = await storage.voices.create(1, "same", make_sample(i), make_active=False)
        await storage.voices.publish(1, voice.id)
        ids.append(voice.id)
    assert await all_pages(storage, 2) == sorted(ids)


async def test_page_numbers_out_of_range_are_clamped(storage: Storage) -> None:
    public, _ = await fill_bank(storage)
    last = await storage.voices.bank_page(999, 5)
    assert last.page == last.pages - 1 and not last.has_next and last.has_prev
    assert [v.id for v in last.voices] == bank_order(public)[last.page * 5 :]
    first = await storage.voices.bank_page(-3, 5)
    assert first.page == 0 and not first.has_prev


async def test_empty_bank_has_one_empty_page(storage: Storage) -> None:
    page = await storage.voices.bank_page(0, 8)
    assert (page.voices, page.total, page.pages, page.has_next) == ([], 0, 1, False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alice", ["Alice", "alice", "ALICE"]),
        ("АННА", ["Анна", "анна"]),
        ("бор", ["Борис"]),
        ("li", ["Alice", "alice", "ALICE"]),
        ("émile", ["Émile"]),
        ("%", []),
        ("_", []),
        ("'; DROP TABLE voices;--", []),
        ("curated", ["curated 2", "curated 1", "curated 0"]),
    ],
)
async def test_search_matches_name_substrings_without_case_in_any_script(
    storage: Storage, query: str, expected: list[str]
) -> None:
    public, _ = await fill_bank(storage)
    by_id = {v.id: v for v in public}
    found = [by_id[i].name for i in await all_pages(storage, 4, query)]
    assert sorted(found) == sorted(expected)
    assert await storage.voices.bank_page(0, 4, query) is not None
    assert (await storage.voices.bank_page(0, 4)).total == len(public)  # table intact


async def test_admin_removal_deletes_curated_and_withdraws_user_voices(storage: Storage) -> None:
    public, _ = await fill_bank(storage)
    curated = next(v for v in public if v.curated)
    user_voice = next(v for v in public if not v.curated)
    assert await storage.voices.remove_from_bank(curated.id)
    assert await storage.voices.get_unchecked(curated.id) is None
    assert await storage.voices.remove_from_bank(user_voice.id)
    kept = await storage.voices.get_unchecked(user_voice.id)
    assert kept is not None and not kept.public  # the owner keeps it, private
    assert await storage.voices.remove_from_bank(user_voice.id) is False  # no longer in bank
    assert await storage.voices.remove_from_bank(987654) is False
    remaining = await all_pages(storage, 50)
    assert curated.id not in remaining and user_voice.id not in remaining
