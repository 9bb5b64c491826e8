"""One word per group chat: the bot explains itself in a group once a month, not at every
message (the group router, bot/handlers/chats.py, and a private deployment's refusal,
bot/middlewares.py, share the same once)."""

from __future__ import annotations

from bot.queue import JobQueue

TOLD_PREFIX = "voiceclone:bot:told-chat:"
TOLD_TTL_SECONDS = 30 * 24 * 3600


async def first_word_in_chat(jobs: JobQueue, chat_id: int) -> bool:
    """Whether the bot has yet to explain itself in this chat; true once per chat and month."""
    return bool(await jobs.redis.set(f"{TOLD_PREFIX}{chat_id}", "1", nx=True, ex=TOLD_TTL_SECONDS))
