"""Unix seconds in the database, aware UTC datetimes in the API."""

from __future__ import annotations

from datetime import UTC, datetime


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_datetime_or_none(seconds: float | None) -> datetime | None:
    return None if seconds is None else to_datetime(seconds)
