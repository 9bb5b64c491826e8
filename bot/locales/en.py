"""English texts."""

from __future__ import annotations

from bot.locales import Texts

TEXTS = Texts(
    language="en",
    language_name="English",
    commands={
        "start": "What this bot does",
        "say": "Speak a text in the active voice",
        "voices": "My voices",
        "bank": "Shared voice bank",
        "format": "Voice note or MP3",
        "language": "Interface language",
        "cancel": "Cancel what is in progress",
        "forget": "Delete everything about me",
        "help": "Help",
    },
    welcome=(
        "👋 Hi! I can speak any text in any voice.\n\n"
        "1. Send me a voice message (or an audio file, or a video note) of someone speaking "
        "for 5–30 seconds. I will learn that voice.\n"
        "2. Send me any text, and I will answer with a voice note in that voice.\n\n"
        "No recording at hand? Pick a ready voice in /bank. All commands: /help"
    ),
    help=(
        "How it works: send a recording of a voice, then send text.\n\n"
        "/say TEXT: speak the text in the active voice (plain text works too)\n"
        "/voices: your voices: use, rename, publish to the bank, delete\n"
        "/bank: voices shared by others, tap one to use it\n"
        "/format: answer with a voice note or an MP3 file\n"
        "/language: English or Russian\n"
        "/cancel: cancel your queued request\n"
        "/forget: delete everything I keep about you\n\n"
        "Tips: a quiet room, one speaker, 10–30 seconds of natural speech. Send more recordings "
        "of the same voice to refine it."
    ),
    language_prompt="Choose the interface language:",
    language_set="Done, I will speak English with you here.",
    access_denied="Sorry, this bot is private.",
    admin_only="This command is for the bot's admins.",
    listening="🎧 Listening to your recording…",
    default_voice_name="Voice {n}",
    voice_registered=(
        "✅ Voice “{name}” is ready and active.\n"
        "I heard {speech} s of speech. {hint}\n\n"
        "Now send me any text and I will say it in this voice."
    ),
    voice_merged=(
        "✅ Added to “{name}”: it now learns from {count} recordings, {speech} s of speech "
        "in all. {hint}"
    ),
    hint_good="The recording sounds clean.",
    hint_quiet="It is rather quiet; a louder recording would help.",
    hint_clipped="It is a bit distorted (too loud); a calmer recording would help.",
    hint_short="More speech (10–30 s) would make the voice more accurate.",
    merge_or_new="Your active voice is “{name}”. Add this recording to it, or make a new voice?",
    merge_button="➕ Add to “{name}”",
    new_button="🆕 New voice",
    pending_expired="That recording is no longer at hand. Please send it again.",
    file_too_big="This file is too big: the limit is {limit_mb} MB. Send a shorter recording.",
    recording_too_long=(
        "This recording is too long: the limit is {limit:.0f} seconds. "
        "Send a shorter piece (10–30 s is plenty)."
    ),
    not_audio_file=(
        "This file is not audio. Send a voice message, an audio file or a video note "
        "of someone speaking."
    ),
    embed_errors={
        "not_audio": "I could not read any audio in this file. Is it a recording of speech?",
        "too_large": "This file is too big. Send a shorter recording.",
        "too_long": "This recording is too long. Send a shorter piece (10–30 s is plenty).",
        "too_short": (
            "There is too little speech in it: I need at least {min:.0f} seconds. "
            "Send a longer recording."
        ),
        "silent": "I hear only silence in this recording. Try again closer to the microphone.",
        "clipped": (
            "This recording is badly distorted (too loud). Record again a bit further "
            "from the microphone."
        ),
        "no_speech": (
            "I hear sound but no one speaking: it sounds like noise, a tone or music. "
            "Send a recording of someone talking."
        ),
        "decode_timeout": "This file took too long to read. Try another recording.",
        "telegram_error": "I could not fetch the file from Telegram. Please send it again.",
        "weights_missing": "The voice engine is not set up yet. Please try again later.",
        "internal": "Something went wrong on my side. Please try again in a minute.",
        "nothing_to_say": "There is nothing I can say in this text.",
    },
    embed_timeout="The voice engine is busy and did not answer in time. Please try again soon.",
    say_usage="Write the text after the command, like this:\n/say Hello, how are you?",
    text_empty="The text is empty. Write what I should say.",
    text_too_long="This text is too long: {length} characters, the limit is {limit}.",
    nothing_speakable="There is nothing I can pronounce here. Write some words.",
    no_voice=(
        "You have no voice chosen yet. Send me a voice message of someone speaking, "
        "or pick a ready voice in /bank."
    ),
    worker_down="⏳ The voice engine is not running right now. Please try again in a few minutes.",
    one_at_a_time="You already have a request in progress. Wait for it, or /cancel it.",
    rate_limited="That is a lot at once: up to {per_minute} requests a minute. Please wait a bit.",
    queue_place="You are number {place} in the queue. I will send the voice note when it is done.",
    cancelled="Cancelled.",
    nothing_to_cancel="There is nothing to cancel.",
    cancel_running="Too late to cancel: it is on its way and will arrive in a moment.",
    cancelled_in_progress=(
        "Cancelled: it was already being voiced, so it will not be sent. A new request can come "
        "as soon as I have stopped working on it."
    ),
    service_busy=(
        "⏳ I have more requests than I can take right now. Please try again in a few minutes."
    ),
    too_many_voices=(
        "You have {limit} voices, the most I can keep for one person. Delete one in /voices, "
        "or add this recording to an existing voice."
    ),
    request_lost="Sorry, your last request got lost in a restart on my side. Please send it again.",
    listening_interrupted=(
        "Sorry, I was restarted while listening to your recording. Please send it again."
    ),
    private_only=(
        "I work in private chats only: open a chat with me and send me a voice message there."
    ),
    preview_phrase="Hello! This is how I sound. Send me any text and I will say it.",
    no_voices="You have no voices yet. Send me a voice message to make one, or look in /bank.",
    voices_header="Your voices. Tap one to manage it:",
    voice_card="🎙 {name}\n{count} recording(s), {speech} s of speech\n{status}",
    status_active="✅ active",
    status_public="🌐 in the public bank",
    status_private="🔒 private",
    btn_use="✅ Use",
    btn_rename="✏️ Rename",
    btn_publish="🌐 Publish",
    btn_withdraw="🔒 Withdraw from bank",
    btn_delete="🗑 Delete",
    btn_back="⬅️ Back",
    btn_yes_delete="🗑 Yes, delete",
    btn_publish_confirm="🌐 Yes, publish",
    btn_cancel="Cancel",
    voice_active="✅ Now speaking as “{name}”. Send me any text.",
    rename_prompt="Send the new name for “{name}” (or /cancel).",
    rename_done="Renamed to “{name}”.",
    rename_invalid="That name does not work: 1 to {limit} characters, no control characters.",
    rename_empty="That name has nothing visible in it. Send a name with letters or digits.",
    rename_marker=(
        "A name cannot begin with an emoji or a symbol: ⭐ at the start marks the voices "
        "curated by this bot's admins. Send another name."
    ),
    publish_confirm=(
        "Publish “{name}” to the shared bank?\n\n"
        "Everyone who uses this bot will be able to make this voice say any text. Publish only "
        "your own voice, or a voice whose owner agreed. You can withdraw it at any time."
    ),
    published="🌐 “{name}” is now in the shared bank.",
    withdrawn="🔒 “{name}” is private again.",
    delete_confirm="Delete “{name}” and its recordings? This cannot be undone.",
    deleted="🗑 “{name}” is deleted.",
    voice_gone="This voice is no longer available.",
    bank_empty="The bank is empty for now. Send me a recording to make your own voice.",
    bank_header="🏦 Voice bank, page {page} of {pages}. Tap a voice to use it, ▶️ to hear it.",
    bank_curated_note="⭐ marks the voices curated by this bot's admins.",
    voice_active_curated=(
        "✅ Now speaking as “{name}” (⭐ curated by this bot's admins). Send me any text."
    ),
    btn_prev="◀️",
    btn_next="▶️ More",
    bank_removed="Removed “{name}” from the bank.",
    format_prompt="I answer with: {current}. Choose the format:",
    format_set="Done: I will answer with {format}.",
    format_names={"voice": "🎤 voice notes", "mp3": "🎵 MP3 files"},
    forget_confirm=(
        "Delete everything I keep about you: your voices, recordings, settings and history? "
        "Your published voices leave the bank too. This cannot be undone."
    ),
    btn_forget="🗑 Yes, delete everything",
    forgotten=(
        "Done. I deleted {voices} voice(s), {recordings} recording(s) and {requests} "
        "request(s). Goodbye, or /start to begin again."
    ),
    forget_cancelled="Nothing was deleted.",
    stats=(
        "📊 Last {window_days} days\n"
        "Users: {users} ({active_users} active, {blocked_users} blocked)\n"
        "Voices: {voices} ({public_voices} public, {curated_voices} curated)\n"
        "Recordings: {recordings}\n"
        "Requests: {requests}, failed: {failed} ({failure_rate:.0%})\n"
        "Median synthesis: {median_synth}, median wait: {median_queue}\n"
        "Queues: embed {embed_queue}, synth {synth_queue}; workers ready: {workers}"
    ),
    fallback="Send me a voice message to learn a voice, or text to speak it. /help",
    unsupported_message=(
        "I can learn a voice from a voice message, an audio file or a video note, "
        "and I speak text. /help"
    ),
)
