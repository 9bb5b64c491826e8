"""English texts."""

from __future__ import annotations

from bot.locales import Texts

TEXTS = Texts(
    language="en",
    language_name="English",
    commands={
        "start": "What this bot does",
        "say": "Speak a text in the active voice",
        "dialogue": "A script in several voices, one note",
        "voices": "My voices",
        "bank": "Shared voice bank",
        "mix": "Blend two voices into a new one",
        "speed": "Slower or faster speech",
        "check": "Was this voice note made here?",
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
        "/dialogue: lines “Name: text” in several voices, as one voice note\n"
        "/voices: your voices: use, rename, publish to the bank, delete\n"
        "/bank: voices shared by others, tap one to use it\n"
        "/mix: blend two voices (yours or from the bank) into a new one\n"
        "/speed: slower or faster speech, from 0.75× to 1.5× (e.g. /speed 1.25)\n"
        "/check: reply it to a voice note (or forward one to me) to learn whether it was made "
        "here: every note I make carries an inaudible watermark\n"
        "/format: answer with a voice note or an MP3 file\n"
        "/language: English or Russian\n"
        "/cancel: cancel your queued request\n"
        "/forget: delete everything I keep about you\n\n"
        "In any chat, type @ and my name: your recent voice notes appear, tap one to send it "
        "there.\n\n"
        "Tips: a quiet room, one speaker, 10–30 seconds of natural speech. Send more recordings "
        "of the same voice to refine it.\n\n"
        "Each voice note shows its likeness: how close it sounds to the voice, as my speaker "
        "model hears it. For scale: the person's own speech scores about 0.85–0.95, someone "
        "else's 0.5–0.65."
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
        "✅ Added to “{name}”: it now learns from "
        "{count:|one=# recording|other=# recordings}, {speech} s of speech in all. {hint}"
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
        "This recording is too long: the limit is {limit:.0f|one=# second|other=# seconds}. "
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
            "There is too little speech in it: I need at least "
            "{min:.0f|one=# second|other=# seconds}. "
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
    text_too_long=(
        "This text is too long: {length:|one=# character|other=# characters}, the limit is {limit}."
    ),
    text_too_much_work=(
        "This text is too long to read out: with its numbers and abbreviations spelled out in "
        "words it comes to {symbols:|one=# character|other=# characters}, and the limit is "
        "{limit}. Send it in shorter parts."
    ),
    nothing_speakable="There is nothing I can pronounce here. Write some words.",
    no_voice=(
        "You have no voice chosen yet. Send me a voice message of someone speaking, "
        "or pick a ready voice in /bank."
    ),
    worker_down="⏳ The voice engine is not running right now. Please try again in a few minutes.",
    one_at_a_time="You already have a request in progress. Wait for it, or /cancel it.",
    rate_limited=(
        "That is a lot at once: up to {per_minute:|one=# request|other=# requests} a minute. "
        "Please wait a bit."
    ),
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
        "You have {limit:|one=# voice|other=# voices}, the most I can keep for one person. "
        "Delete one in /voices, or add this recording to an existing voice."
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
    voice_card=(
        "🎙 {name}\n{count:|one=# recording|other=# recordings}, {speech} s of speech\n{status}"
    ),
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
    rename_invalid=(
        "That name does not work: 1 to {limit:|one=# character|other=# characters}, "
        "no control characters."
    ),
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
    mix_need_two=(
        "To mix, I need two voices you can use (your own, or from /bank), and you have fewer. "
        "Send me a recording of another voice, then /mix again."
    ),
    mix_pick_first="🧪 Mix two voices into a new one.\nStep 1 of 3: pick the first voice.",
    mix_pick_second="🧪 First voice: “{first}”.\nStep 2 of 3: pick the second voice.",
    mix_no_partner=(
        "There is no other voice to mix with “{first}”: voices mix only with voices made by the "
        "same speaker model. Go back and pick another one."
    ),
    mix_pick_share="🧪 “{first}” + “{second}”.\nStep 3 of 3: how much of each?",
    mix_share_button="{first_share} % {first} + {second_share} % {second}",
    mix_page=" (page {page} of {pages})",
    mix_default_name="Mix: {first} + {second}",
    mix_done=(
        "✅ Voice “{name}” is ready and active: {first_share} % “{first}” and "
        "{second_share} % “{second}”.\n\n"
        "Send me any text to hear it. Rename, publish or delete it in /voices."
    ),
    mix_same="Pick two different voices.",
    mix_encoders="These two voices were made by different speaker models and cannot be mixed.",
    mix_too_many=(
        "You have {limit:|one=# voice|other=# voices}, the most I can keep for one person. "
        "Delete one in /voices to make room for the mix."
    ),
    mix_cancelled="Nothing was mixed.",
    mix_source="“{name}”",
    mix_source_gone="a voice no longer available",
    mix_provenance="🧪 mix: {first_share} % {first} + {second_share} % {second}",
    voice_card_mix="🎙 {name}\n{provenance}\n{status}",
    speed_prompt=(
        "🏃 Your voice notes come at {current}. Pick a pace, or send it as a number "
        "from {low} to {high}, like /speed 1.25:"
    ),
    speed_set="Done: your voice notes will come at {pace}.",
    speed_invalid=(
        "The pace is a number from {low} to {high}: /speed 1.25 is a quarter faster, "
        "/speed 0.75 a quarter slower, /speed 1 normal."
    ),
    pace_normal=" (normal)",
    forget_confirm=(
        "Delete everything I keep about you: your voices, recordings, settings and history? "
        "Your published voices leave the bank too. This cannot be undone."
    ),
    btn_forget="🗑 Yes, delete everything",
    forgotten=(
        "Done. I deleted {voices:|one=# voice|other=# voices}, "
        "{recordings:|one=# recording|other=# recordings} and "
        "{requests:|one=# request|other=# requests}. Goodbye, or /start to begin again."
    ),
    forget_cancelled="Nothing was deleted.",
    stats=(
        "📊 Last {window_days:|one=day|other=# days}\n"
        "Users: {users} ({active_users} active, {blocked_users} blocked)\n"
        "Voices: {voices} ({public_voices} public, {curated_voices} curated)\n"
        "Recordings: {recordings}\n"
        "Requests: {requests}, failed: {failed} ({failure_rate:.0%})\n"
        "Median synthesis: {median_synth}, median wait: {median_queue}\n"
        "Median likeness: {median_likeness}\n"
        "Queues: embed {embed_queue}, synth {synth_queue}; workers ready: {workers}\n"
        "Unreadable outcomes set aside: {unreadable_outcomes}"
    ),
    fallback="Send me a voice message to learn a voice, or text to speak it. /help",
    unsupported_message=(
        "I can learn a voice from a voice message, an audio file or a video note, "
        "and I speak text. /help"
    ),
    dialogue_usage=(
        "Write the script after the command, one line per turn, each starting with the name "
        "of a voice:\n"
        "/dialogue\n"
        "Anna: Hi, Boris! Did you see the news?\n"
        "Boris: I did. It was about time.\n\n"
        "The names are those of your voices (/voices) and of the bank's (/bank), in any case."
    ),
    dialogue_unknown_name="I do not know a voice called “{name}”. You can use: {choices}.",
    dialogue_more_choices=", and {more} more in /bank",
    dialogue_no_choices=(
        "There is no voice to cast yet. Send me a voice message to make one, or publish one to "
        "the bank."
    ),
    dialogue_empty_turn="Line {line} ({name}) has nothing I can say.",
    dialogue_too_many_voices=(
        "That is {count:|one=# voice|other=# voices}; a dialogue can have up to {limit}."
    ),
    dialogue_too_many_turns=(
        "This dialogue has {count:|one=# turn|other=# turns}; it can have up to {limit}. "
        "Split it into shorter ones."
    ),
    check_prompt=(
        "Send or forward me the voice note (or audio file) to check, or /cancel. "
        "You can also reply /check to one."
    ),
    check_waiting="I am waiting for a voice note or audio file to check. Send one, or /cancel.",
    check_reply_no_audio=(
        "The message you replied to has no audio. Reply /check to a voice note or an audio "
        "file, or send /check alone and then the audio."
    ),
    check_not_audio=(
        "This is not audio. Send or forward a voice note or an audio file to check, or /cancel."
    ),
    checking="🔎 Looking for my watermark…",
    check_found=(
        "✅ Made here. This audio carries the inaudible watermark I put on every voice note I "
        "make (detector: {confidence} %)."
    ),
    check_absent=(
        "❌ No watermark of mine found (detector: {confidence} %). Either it was not made "
        "here, or it was changed too much for the mark to survive (played through a speaker "
        "and recorded again, heavily edited). It does not prove that a person spoke it: "
        "other services do not mark their audio."
    ),
    check_unclear=(
        "❔ Cannot tell. There is a faint trace of my watermark (detector: {confidence} %), "
        "too faint to say: it may have been made here and then heavily changed, or the "
        "trace is a coincidence."
    ),
    check_too_short="This is too short to check: I need at least a second of audio.",
    check_busy="I am still checking the last one you sent. A moment, please.",
    forwarded_offer="A forwarded voice note. What shall I do with it?",
    btn_check="🔎 Check where it was made",
    btn_learn="🎙 Learn this voice",
    inline_make_one="No voice notes yet: make one in the chat with me",
    inline_private="This bot is private",
    inline_description="🎤 {duration}",
    status_making="🎙 Making your voice note: {percent} %",
    status_making_left="🎙 Making your voice note: {percent} % · about {seconds} s left",
    btn_cancel_request="✖ Cancel",
    voice_being_learned=(
        "Your voice is still being learned. I will say this in it as soon as it is ready."
    ),
    listening_queued="🎧 Got your recording. Number {place} in the queue for a free worker…",
)
