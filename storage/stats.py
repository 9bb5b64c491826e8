"""Figures for admins (/stats): counts, requests per day, failure rate, median timings and
likeness."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models import DayCount, RequestStatus, Stats

SECONDS_PER_DAY = 86_400


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class StatsQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def summary(self, days: int = 7) -> Stats:
        """Figures over the last `days` UTC days, today included."""
        days = max(1, int(days))
        done, failed = str(RequestStatus.done), str(RequestStatus.failed)
        async with self._db.reading() as tx:
            today = datetime.fromtimestamp(tx.now, tz=UTC).date()
            first_day = today - timedelta(days=days - 1)
            since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
            since_ts = since.timestamp()
            totals = await tx.fetch_one(
                "SELECT"
                " (SELECT COUNT(*) FROM users) AS users,"
                " (SELECT COUNT(*) FROM users WHERE blocked = 1) AS blocked_users,"
                " (SELECT COUNT(*) FROM users WHERE last_seen_at >= ?) AS active_users,"
                " (SELECT COUNT(*) FROM voices) AS voices,"
                " (SELECT COUNT(*) FROM voices WHERE public = 1) AS public_voices,"
                " (SELECT COUNT(*) FROM voices WHERE curated = 1) AS curated_voices,"
                " (SELECT COUNT(*) FROM recordings) AS recordings",
                (since_ts,),
            )
            per_day_rows = await tx.fetch_all(
                "SELECT date(created_at, 'unixepoch') AS day, COUNT(*) AS n,"
                " SUM(status = ?) AS failed FROM requests WHERE created_at >= ?"
                " GROUP BY day",
                (failed, since_ts),
            )
            finished_rows = await tx.fetch_all(
                "SELECT status, synth_seconds, queue_seconds, likeness FROM requests"
                " WHERE created_at >= ? AND status IN (?, ?)",
                (since_ts, done, failed),
            )
        assert totals is not None
        counted = {row["day"]: (int(row["n"]), int(row["failed"] or 0)) for row in per_day_rows}
        per_day = []
        for offset in range(days):
            day = (first_day + timedelta(days=offset)).isoformat()
            requests, failures = counted.get(day, (0, 0))
            per_day.append(DayCount(day, requests, failures))
        n_failed = sum(1 for row in finished_rows if row["status"] == failed)
        n_done = len(finished_rows) - n_failed
        synth = [
            row["synth_seconds"]
            for row in finished_rows
            if row["status"] == done and row["synth_seconds"] is not None
        ]
        queue = [
            row["queue_seconds"]
            for row in finished_rows
            if row["status"] == done and row["queue_seconds"] is not None
        ]
        likeness = [
            row["likeness"]
            for row in finished_rows
            if row["status"] == done and row["likeness"] is not None
        ]
        return Stats(
            users=totals["users"],
            blocked_users=totals["blocked_users"],
            active_users=totals["active_users"],
            voices=totals["voices"],
            public_voices=totals["public_voices"],
            curated_voices=totals["curated_voices"],
            recordings=totals["recordings"],
            requests=sum(day.requests for day in per_day),
            failed=sum(day.failed for day in per_day),
            failure_rate=n_failed / (n_done + n_failed) if n_done + n_failed else 0.0,
            median_synth_seconds=_median(synth),
            median_queue_seconds=_median(queue),
            per_day=per_day,
            window_days=days,
            median_likeness=_median(likeness),
        )
