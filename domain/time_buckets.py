"""UTC time buckets for series and rollups."""

from __future__ import annotations

from datetime import datetime

from domain.reports import Bucket


def bucket_start(instant: datetime, bucket: Bucket) -> datetime:
    hour = instant.replace(minute=0, second=0, microsecond=0)
    return hour if bucket is Bucket.HOUR else hour.replace(hour=0)
