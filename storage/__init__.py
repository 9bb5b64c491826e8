"""Everything the bot must remember across restarts: SQLite (aiosqlite) plus recording files.

No SQL lives anywhere else; only the bot process writes here. Nothing here imports torch.

Build it once in the composition root (bot/app.py) and hand it to aiogram as the Dispatcher's
workflow data, ``Dispatcher(..., store=store)``, so that middlewares find it in ``data["store"]``
and handlers take it as a ``store`` argument::

    store = await Storage.open(settings.data_dir)   # creates or upgrades the schema
    ...
    await store.close()

Layout: DATA_DIR/bot.sqlite3 (WAL, foreign keys, busy timeout; migrations in
storage/migrations.py tracked by ``PRAGMA user_version``) and
DATA_DIR/recordings/<sha256[:2]>/<sha256>.<ext> (content-addressed, atomic writes).
Times in the API are aware UTC datetimes. Every method is ``async`` unless noted; ids are ints.

``store.users`` (Users)
    ensure(user_id, language="en") -> User        create on first sight, mark seen
    get(user_id) -> User | None
    set_language(user_id, language) -> User | None
    set_output_format(user_id, "voice" | "mp3") -> User | None   (ValueError otherwise)
    set_blocked(user_id, blocked) -> User | None
    set_pace(user_id, pace) -> User | None      /speed; ValueError outside PACE_RANGE
    set_active_voice(user_id, voice_id | None) -> bool   False if not usable by the user
    count() -> int
    forget(user_id) -> ForgetReport                every row and every file of the user

``store.voices`` (Voices): ownership is checked in every call that takes a user id
    create(owner_id, name, sample, make_active=True, max_voices=None) -> Voice
        LookupError: unknown user; VoiceLimitError: `max_voices` reached (checked as the
        row is made, so that a /mix made while a recording is processed cannot pass the cap)
    create_curated(name, sample) -> Voice          admin bank import: owner None, public
    add_sample(owner_id, voice_id, sample) -> Voice | None
        merge: mean weighted by speech seconds, normalised; keeps sample.audio;
        EncoderMismatchError (a ValueError) if the encoders differ
    get_usable(user_id, voice_id) -> Voice | None  own or public: may speak with it
    get_owned(user_id, voice_id) -> Voice | None   own: may edit/delete/publish it
    get_active(user_id) -> Voice | None            the active voice if still usable
    get_unchecked(voice_id) -> Voice | None        admins/internal only
    list_owned(user_id) -> list[Voice]             oldest first
    find_curated(name) -> Voice | None             to make bank imports re-runnable
    find_by_names(user_id, names) -> dict[str, Voice]   usable voices by case-folded name,
                                                   own before the bank's (/dialogue)
    rename(owner_id, voice_id, name) -> Voice | None
    publish(owner_id, voice_id) -> Voice | None    records consent_at (first consent kept)
    withdraw(owner_id, voice_id) -> Voice | None   others lose it as active voice
    delete(owner_id, voice_id) -> bool             rows, then files nothing else names
    remove_from_bank(voice_id) -> bool             admin: curated deleted, user's withdrawn
    bank_page(page=0, page_size=8, query=None) -> BankPage
        public voices, curated first, then name (case-folded), then id; `query` matches a
        name substring case-insensitively in any script; page clamped into range
    Names: any Unicode except control characters, 1..64 chars, stored as given;
    otherwise ValueError. Users who had a deleted voice active get active_voice_id None.

``store.mixes`` (Mixes): /mix, two usable voices blended into a new own voice
    candidates(user_id, page=0, page_size=8, encoder_id=None, exclude_id=None) -> BankPage
        the voices the user may mix (own first, then public)
    create(owner_id, first_id, second_id, first_share, name, max_voices=...) -> MixResult
        the voice (private, active), or a MixRefusal (gone, same, encoders, voices);
        embedding = sv2tts.embedding.blend of the two, computed as they are checked
    of(voice_id, viewer_id) -> Mix | None         provenance: sources and shares

``store.recordings`` (Recordings)
    add(voice_id, data: bytes, kind, duration, ext="ogg") -> Recording
        (caller checked ownership with get_owned); LookupError: no such voice
    list_for_voice(voice_id) -> list[Recording]
    path(recording) -> Path   (sync)              read(recording) -> bytes
    collect_garbage() -> int                       also run by Storage.open

``store.requests`` (Requests)
    admit(user_id, voice_id, text_length, limits, kind="synth", new_voice=False)
        -> Admission      the limits checked and the row created in one transaction:
                          request_id, or a Refusal (busy, rate, full, voices)
    admit_check(user_id, token, limits) -> Refusal | None   a /check through the same gate
                          (busy, full): open until end_check(token); this process only
    end_check(token) -> bool    open_check(user_id) -> str | None
    end_checks_of(user_id) -> list[str]           /forget: the tokens of their open checks
    create(user_id, voice_id, text_length, kind="synth") -> int   no limits checked
    get(request_id) -> Request | None
    mark_started(request_id, queue_seconds=None) -> bool
    mark_finished(request_id, *, queue_seconds, synth_seconds, audio_seconds,
                  total_seconds, likeness=None) -> bool
    mark_failed(request_id, error_code, *, queue_seconds, synth_seconds, total_seconds)
    mark_cancelled(request_id) -> bool
    record_outcome(outcome) -> bool                a worker.api.SynthOutcome (duck-typed)
    count_recent(user_id, seconds) -> int          rate limit
    count_active(user_id) -> int                   queued + running
    list_active(user_id, kind=None) -> list[Request]
    list_open(older_than_seconds=0) -> list[Request]   every user's, for the sweeper
    ids_of(user_id) -> list[int]                  for /forget's clean-up of Redis
    count_open() -> int
    purge_forgotten() -> int                      rows of forgotten users that no longer count
    expire_stale(older_than_seconds, error_code="internal") -> int
    Only queued/running requests change state: False means unknown or already over.

``store.notes`` (Notes): the user's recent voice notes, for inline mode
    expect(request_id, user_id, text)              a note the admitted request will make
    deliver(request_id, file_id, "voice" | "audio", duration) -> bool
                                                   sent; keeps the newest NOTES_KEPT per user
    drop(request_id) -> bool                       the request made none after all
    recent(user_id, query="", limit=20) -> list[Note]   delivered, newest first
    get(user_id, request_id) -> Note | None        the user's own note only
    A user's notes go with the user (/forget).

``store.status_messages`` (StatusMessages): the status messages of long requests
    keep(StatusMessage)                            sent: remember it (one per request)
    drop(request_id)                               it went, or its handler took it over
    all() -> list[StatusMessage]                   what a restarted bot follows again
    They go with the user (/forget).

``store.stats`` (StatsQueries)
    summary(days=7) -> Stats   users, voices, public/curated voices, requests per UTC day,
                               failure rate (failed / finished), median synth/queue seconds,
                               median likeness

``store.forget(user_id)`` is ``store.users.forget``.

Dataclasses (storage.models): User, Voice, Sample, Recording, Request, RequestStatus,
Note, BankPage, ForgetReport, Stats, DayCount, Mix, MixSource, MixResult. A Sample is built
by the bot from the worker's EmbedResult::

    Sample(embedding=np.asarray(r.embedding, np.float32), encoder_id=r.encoder_id,
           recording=r.recording, audio=r.recording_ogg, audio_kind=request.kind)

(bot/samples.py); `recording` is the engine's `sv2tts.audio.measures.RecordingStats`.

Embeddings: ``embedding_to_blob(np.ndarray) -> bytes`` and ``blob_to_embedding(bytes)``
(256 little-endian float32, bit-identical round trip); ``voice.embedding.tolist()`` goes
into SynthRequest.embedding.
"""

from storage.db import SchemaTooNewError
from storage.embedding import blob_to_embedding, embedding_to_blob, merged_embedding
from storage.facade import Storage
from storage.models import (
    ACTIVE_STATUSES,
    DEFAULT_PACE,
    EMBEDDING_DIM,
    MAX_VOICE_NAME_CHARS,
    PACE_RANGE,
    Admission,
    AdmissionLimits,
    BankPage,
    DayCount,
    ForgetReport,
    Mix,
    MixRefusal,
    MixResult,
    MixSource,
    Note,
    OutputFormat,
    Recording,
    Refusal,
    Request,
    RequestKind,
    RequestStatus,
    Sample,
    Stats,
    StatusMessage,
    User,
    Voice,
    validate_pace,
    validate_voice_name,
)
from storage.voices import EncoderMismatchError, VoiceLimitError

__all__ = [
    "ACTIVE_STATUSES",
    "DEFAULT_PACE",
    "EMBEDDING_DIM",
    "MAX_VOICE_NAME_CHARS",
    "PACE_RANGE",
    "Admission",
    "AdmissionLimits",
    "BankPage",
    "DayCount",
    "EncoderMismatchError",
    "ForgetReport",
    "Mix",
    "MixRefusal",
    "MixResult",
    "MixSource",
    "Note",
    "OutputFormat",
    "Recording",
    "Refusal",
    "Request",
    "RequestKind",
    "RequestStatus",
    "Sample",
    "SchemaTooNewError",
    "Stats",
    "StatusMessage",
    "Storage",
    "User",
    "Voice",
    "VoiceLimitError",
    "blob_to_embedding",
    "embedding_to_blob",
    "merged_embedding",
    "validate_pace",
    "validate_voice_name",
]
