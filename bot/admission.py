"""The limits on what one user, and everyone together, may put in the queue.

`storage.requests.admit` checks them and creates the request row in one transaction, so a
burst of updates from one user (forwarding eight messages is one gesture) cannot slip past
"one at a time": of twenty at the same instant, one is admitted and nineteen are told why not.
This module turns the settings into those limits and a refusal into the user's words.
"""

from __future__ import annotations

from bot.locales import Texts
from bot.settings import Settings
from storage import AdmissionLimits, Refusal


def limits_of(settings: Settings) -> AdmissionLimits:
    return AdmissionLimits(
        max_active_per_user=settings.max_active_requests_per_user,
        per_minute=settings.requests_per_minute,
        max_queued=settings.max_queued_requests,
        max_voices_per_user=settings.max_voices_per_user,
    )


def refusal_text(refusal: Refusal, settings: Settings, texts: Texts) -> str:
    if refusal is Refusal.busy:
        return texts.one_at_a_time
    if refusal is Refusal.rate:
        return texts.rate_limited.format(per_minute=settings.requests_per_minute)
    if refusal is Refusal.voices:
        return texts.too_many_voices.format(limit=settings.max_voices_per_user)
    return texts.service_busy
