"""The worker's Bot API client against the fake Bot API server."""

from __future__ import annotations

import socket

import pytest

from tests.fakes.botapi import FakeBotAPI
from worker.telegram import (
    BotApi,
    FileTooLarge,
    TelegramPermanentError,
    TelegramTransientError,
    mask_token,
)


def client(api: FakeBotAPI) -> BotApi:
    return BotApi(api.url, api.token, timeout=5)


def test_get_file_then_download_returns_the_stored_bytes(bot_api: FakeBotAPI) -> None:
    data = b"OggS" + bytes(range(256)) * 10
    file_id, _ = bot_api.add_file(data)
    telegram = client(bot_api)
    remote = telegram.get_file(file_id)
    assert remote.file_size == len(data)
    assert telegram.download(remote.file_path, max_bytes=len(data)) == data


def test_download_stops_at_the_byte_limit(bot_api: FakeBotAPI) -> None:
    file_id, _ = bot_api.add_file(b"x" * 5000, file_size=10)  # getFile understates the size
    telegram = client(bot_api)
    remote = telegram.get_file(file_id)
    with pytest.raises(FileTooLarge):
        telegram.download(remote.file_path, max_bytes=4999)


@pytest.mark.parametrize(
    ("code", "kind"),
    [(429, TelegramTransientError), (502, TelegramTransientError), (400, TelegramPermanentError)],
)
def test_errors_are_classified_by_status(
    bot_api: FakeBotAPI, code: int, kind: type[Exception]
) -> None:
    bot_api.fail_next("sendMessage", code, "Too Many Requests: retry later", retry_after=7)
    with pytest.raises(kind) as caught:
        client(bot_api).send_message(1, "hello")
    assert caught.value.status == code
    assert bot_api.token not in str(caught.value)
    if code == 429:
        assert caught.value.retry_after == 7


def test_unreachable_server_is_transient_and_the_message_hides_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "42:SECRET-token-value"
    telegram = BotApi(f"http://127.0.0.1:{port}", token, timeout=2)
    with pytest.raises(TelegramTransientError) as caught:
        telegram.send_chat_action(1, "record_voice")
    assert token not in str(caught.value)
    assert caught.value.status == 0


def test_send_voice_uploads_the_bytes_as_a_reply(bot_api: FakeBotAPI) -> None:
    sent = client(bot_api).send_voice(77, b"OggS-voice", duration=3, reply_to=12)
    call = bot_api.wait_for("sendVoice")
    assert call.upload().data == b"OggS-voice"
    assert call.params["chat_id"] == 77
    assert call.params["duration"] == 3
    assert call.params["reply_parameters"]["message_id"] == 12
    assert call.result["message_id"] == sent.message_id
    # The file_id Telegram keeps the upload under, for inline mode to send it again.
    assert sent.file_id == call.result["voice"]["file_id"]
    assert bot_api.file_bytes(sent.file_id) == b"OggS-voice"


def test_mask_token_replaces_every_occurrence() -> None:
    token = "1:abc"
    assert mask_token(f"http://x/bot{token}/getMe and {token}", token) == (
        "http://x/bot<token>/getMe and <token>"
    )
