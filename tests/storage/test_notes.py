"""Notes for inline mode: expected at admission, delivered by the outcome, kept to the newest
NOTES_KEPT per user, listed only to their owner; and voices found by name for /dialogue."""

from __future__ import annotations

from storage import Storage
from storage.notes import MAX_TITLE_CHARS, NOTES_KEPT, STALE_SECONDS, note_title

from .conftest import FakeClock, make_sample

USER, OTHER = 501, 502


async def delivered(storage: Storage, request_id: int, text: str, user: int = USER) -> None:
    await storage.notes.expect(request_id, user, text)
    assert await storage.notes.deliver(request_id, f"FILE-{request_id}", "voice", 2.5)


async def test_a_note_is_listed_once_delivered_newest_first(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.users.ensure(USER)
    await storage.notes.expect(1, USER, "Hello there")
    assert await storage.notes.recent(USER) == []  # not sent yet
    assert await storage.notes.deliver(1, "FILE-1", "voice", 3.2)
    clock.advance(1)
    await delivered(storage, 2, "Привет, мир")
    notes = await storage.notes.recent(USER)
    assert [(n.request_id, n.title, n.file_id) for n in notes] == [
        (2, "Привет, мир", "FILE-2"),
        (1, "Hello there", "FILE-1"),
    ]
    assert notes[1].duration == 3.2 and notes[1].file_kind == "voice"
    assert [n.request_id for n in await storage.notes.recent(USER, "ПРИВЕТ")] == [2]
    assert not await storage.notes.deliver(2, "FILE-again", "voice", 1.0)  # once only


async def test_a_failed_request_leaves_no_note_and_others_see_none(storage: Storage) -> None:
    await storage.users.ensure(USER)
    await storage.users.ensure(OTHER)
    await storage.notes.expect(3, USER, "never sent")
    assert await storage.notes.drop(3)
    assert not await storage.notes.deliver(3, "FILE-3", "voice", 1.0)
    await delivered(storage, 4, "mine")
    assert await storage.notes.recent(OTHER) == []
    assert await storage.notes.get(OTHER, 4) is None
    assert (await storage.notes.get(USER, 4)) is not None
    assert not await storage.notes.drop(4)  # a delivered note is not dropped by a late failure


async def test_only_the_newest_notes_are_kept(storage: Storage, clock: FakeClock) -> None:
    await storage.users.ensure(USER)
    await storage.notes.expect(999, USER, "lost on the way")  # never delivered
    for request_id in range(1, NOTES_KEPT + 4):
        clock.advance(STALE_SECONDS / NOTES_KEPT)
        await delivered(storage, request_id, f"note {request_id}")
    kept = [n.request_id for n in await storage.notes.recent(USER, limit=100)]
    assert kept == list(range(NOTES_KEPT + 3, 3, -1))
    assert not await storage.notes.drop(999)  # gone as stale


async def test_notes_go_with_the_user(storage: Storage) -> None:
    await storage.users.ensure(USER)
    await delivered(storage, 5, "a secret zqxj")
    await storage.forget(USER)
    assert await storage.notes.recent(USER) == []


def test_a_title_is_the_first_line_shortened() -> None:
    assert note_title("  Anna: hi\nBoris: hello ") == "Anna: hi"
    long = note_title("word " * 40)
    assert len(long) == MAX_TITLE_CHARS and long.endswith("…")


async def test_voices_by_name_prefer_the_users_own(storage: Storage) -> None:
    await storage.users.ensure(USER)
    await storage.users.ensure(OTHER)
    bank_anna = await storage.voices.create_curated("Anna", make_sample(1))
    theirs = await storage.voices.create(OTHER, "Boris", make_sample(2))
    await storage.voices.publish(OTHER, theirs.id)
    hidden = await storage.voices.create(OTHER, "Vera", make_sample(3))
    own_anna = await storage.voices.create(USER, "АННА anna", make_sample(4))
    mine = await storage.voices.create(USER, "anna", make_sample(5))
    found = await storage.voices.find_by_names(USER, ["ANNA", "boris", "vera", "аннА ANNA", " "])
    assert {name: v.id for name, v in found.items()} == {
        "anna": mine.id,
        "boris": theirs.id,
        "анна anna": own_anna.id,
    }
    assert hidden.id not in {v.id for v in found.values()}
    assert (await storage.voices.find_by_names(OTHER, ["anna"]))["anna"].id == bank_anna.id
