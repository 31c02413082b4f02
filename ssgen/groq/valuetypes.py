"""The two GROQ value types that are not JSON: ``DateTime`` (an instant with millisecond
precision, parsed from exact RFC 3339) and ``Path`` (a ``path()`` pattern)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --- datetimes --------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z"
)


class DateTime:
    """An instant with millisecond precision (the spec's datetime type)."""

    __slots__ = ("ms",)

    def __init__(self, ms: int) -> None:
        self.ms = ms

    @classmethod
    def parse(cls, text: str) -> DateTime | None:
        """Parse an exact RFC 3339 timestamp; None when it is not one."""
        m = _RFC3339.match(text)
        if m is None:
            return None
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        frac, zone = m.group(7), m.group(8)
        try:
            dt = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except ValueError:
            return None
        ms = _to_ms(dt) + (1000 if second == 60 else 0)
        if frac:
            ms += int((frac[1:] + "000")[:3])
        if zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            ms -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * 1000
        return cls(ms)

    @classmethod
    def from_datetime(cls, dt: datetime) -> DateTime:
        """From an aware (or UTC-naive) Python datetime, truncated to milliseconds."""
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return cls(_to_ms(dt))

    def to_datetime(self) -> datetime:
        """As an aware UTC Python datetime."""
        return _EPOCH + timedelta(milliseconds=self.ms)

    def add_seconds(self, seconds: float | int) -> DateTime | None:
        """This instant moved by a number of seconds (None when out of range)."""
        delta = seconds * 1000
        if delta != delta or abs(delta) > 1e16:
            return None
        return DateTime(self.ms + round(delta))

    def __str__(self) -> str:
        try:
            dt = self.to_datetime()
        except OverflowError:
            return ""
        millis = self.ms % 1000
        frac = f".{millis:03d}" if millis else ""
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt:%H:%M:%S}{frac}Z"

    def __repr__(self) -> str:
        return f"DateTime({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateTime) and other.ms == self.ms

    def __hash__(self) -> int:
        return hash(("datetime", self.ms))


def _to_ms(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


# --- paths ------------------------------------------------------------------------------


class Path:
    """A ``path()`` pattern: ``*`` matches one dot-separated segment, ``**`` any number."""

    __slots__ = ("_regex", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        parts = []
        for part in pattern.split("."):
            if part == "*":
                parts.append(r"[^.]+")
            elif part == "**":
                parts.append(r".*")
            else:
                parts.append(re.escape(part))
        self._regex = re.compile(r"\.".join(parts) + r"\Z", re.DOTALL)

    def matches(self, text: str) -> bool:
        """Whether a string (a document id, say) matches the pattern."""
        return self._regex.match(text) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(("path", self.pattern))
