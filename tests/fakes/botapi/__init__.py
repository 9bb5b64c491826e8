"""A fake Telegram Bot API server on loopback, for the bot's and the worker's tests.

It speaks enough of the Bot API (https://core.telegram.org/bots/api) for aiogram 3 and for a
plain aiohttp/requests client. The package is layered, each module building on the one before:

- `server.py`: the HTTP server, the call log, scripted failures, long-polled getUpdates;
- `methods.py`: what Telegram keeps (files, the bot's messages, commands, the webhook) and
  how each method behaves, its errors included;
- `updates.py`: the updates a user's messages and button presses arrive as;
- `users.py`: `FakeUser`, and `FakeBotAPI`, the whole fake plus one-call user actions.

Starting it
-----------
Sync code (worker tests) runs it in a background thread with its own event loop::

    with FakeBotAPI() as api:          # or api.start_in_thread() ... api.stop()
        settings = ... TELEGRAM_API_URL=api.url, BOT_TOKEN=api.token

Async code can run it in the test's own loop instead::

    async with FakeBotAPI() as api:
        ...

Test-facing API
---------------
- `api.url`: base URL to pass as TELEGRAM_API_URL; `api.token`: the only token accepted
  (others get 401); `api.bot_id`, `api.bot_username`.
- `api.add_file(data, *, file_path=None, file_size=None) -> (file_id, file_unique_id)`:
  a file that getFile and the download route serve. `file_size` may lie (to test limits).
  `api.file_bytes(file_id)` reads one back (an upload of the bot's, too).
- `api.push_update(update) -> update_id`: queue an update for getUpdates (an `update_id` is
  assigned when absent). Builders return update dicts: `text_update(user, text)`,
  `command_update(user, "say", "hello", reply_to=None)`, `voice_update(user, file_id,
  duration=..., forward_origin=None)` (`api.forward_origin(sender)` makes one), `audio_update`,
  `document_update`, `video_note_update`, `callback_update(user, data, message=None)`,
  `inline_query_update(user, query)` (answerable once, by answerInlineQuery).
  `send_text / send_command / send_voice / send_audio / send_document / send_video_note /
  send_inline_query / press` build and push in one call; `press(user, text_part)` finds the
  inline button whose text contains `text_part` on the latest bot message with a keyboard in
  that user's chat (or on `message=`) and pushes its callback query.
- `FakeUser(id, language_code="en", first_name=...)` is the sender of an update.
- `api.calls`: a snapshot list of `Call(method, params, files, result, error, at)`; `params`
  are decoded (JSON fields parsed, integer fields as int), `files` maps multipart part names
  to `Upload(filename, content_type, data)`, and `call.upload()` gives the (only) upload.
  `api.calls_of(method, since=0)` keeps one method's calls.
- `api.wait_for(method, predicate=None, timeout=10.0, since=0) -> Call`: blocks until a call
  of `method` (after index `since`) matches `predicate(call)`; raises AssertionError with the
  calls seen on timeout. `await api.wait_for_async(...)` is the same for async tests.
  `api.mark() -> int` is the current call count, to use as `since`.
- `api.messages_to(chat_id)`: texts sent by the bot to a chat, in order.
  `api.last_keyboard_message(chat_id)` and `api.buttons(message)` read the bot's keyboards;
  `api.commands` holds setMyCommands per language code ("" for the default), `api.webhook_url`
  the webhook, `api.inline_answers` the answer to each inline query by its id.
- `api.fail_next(method, error_code, description, retry_after=None, times=1)`: the next
  `times` calls of `method` fail with that Telegram error (the call is still recorded, with
  `error` set).
- `api.block(chat_id)` / `api.unblock(chat_id)`: the user blocked the bot: every call with
  that `chat_id` fails with 403 "Forbidden: bot was blocked by the user" until unblocked.
"""

from tests.fakes.botapi.server import Call, Upload
from tests.fakes.botapi.users import FakeBotAPI, FakeUser

__all__ = ["Call", "FakeBotAPI", "FakeUser", "Upload"]
