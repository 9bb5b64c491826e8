"""The bot's services, built once in bot/app.py and handed to the handlers by the Dispatcher
(its workflow data, by parameter name): `speech` (SpeechService), `recordings`
(RecordingService), `voices` (VoiceService). Each holds its collaborators (the Bot, settings,
storage, the queue client, the status board...) as attributes, so a handler asks for the one
service it needs and calls one method. What two handlers share lives here too, not in a
handler module (no handler module imports another: tests/bot/test_bot_shape.py):
`recording_input.py` (what a message with audio asks for) and `groups.py` (one word per
group chat)."""

from bot.services.asker import Asker
from bot.services.recordings import RecordingService
from bot.services.speech import Dialogue, SpeechOrder, SpeechService
from bot.services.voices import VoiceService

__all__ = [
    "Asker",
    "Dialogue",
    "RecordingService",
    "SpeechOrder",
    "SpeechService",
    "VoiceService",
]
