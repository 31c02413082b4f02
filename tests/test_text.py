"""slugify, format_date and absolute_url."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.render.text import absolute_url, format_date, parse_date, slugify


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  Crème Brûlée  ", "creme-brulee"),
        ("Straße in Łódź", "strasse-in-lodz"),
        ("ÆON Œuvre", "aeon-oeuvre"),
        ("ｆｕｌｌ　ｗｉｄｔｈ", "full-width"),
        ("already-a-slug", "already-a-slug"),
        ("a -- b__c", "a-b-c"),
        ("日本語", ""),
        ("", ""),
    ],
)
def test_slugify_examples(text: str, slug: str) -> None:
    assert slugify(text) == slug


@given(st.text())
def test_slugify_is_idempotent_and_clean(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|", slug)
    assert slugify(slug) == slug


def test_slugify_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="slugify expects text, got int"):
        slugify(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "fmt", "out"),
    [
        ("2025-01-05", None, "January 5, 2025"),
        ("2025-01-05T23:30:00Z", None, "January 5, 2025"),
        ("2025-01-05t23:30:00z", "%Y-%m-%d %H:%M", "2025-01-05 23:30"),
        ("2025-03-09T07:04:05.123+02:00", "%-d/%-m %-H:%M:%S %z", "9/3 7:04:05 +0200"),
        ("2025-03-09 07:04", "%d %b %Y", "09 Mar 2025"),
        (date(2024, 2, 29), "%A %-d %B", "Thursday 29 February"),
        (
            datetime(2024, 12, 1, 9, tzinfo=timezone(timedelta(hours=-5))),
            "iso",
            "2024-12-01T09:00:00-05:00",
        ),
        ("2024-12-01T09:00:00Z", "iso", "2024-12-01T09:00:00+00:00"),
    ],
)
def test_format_date(value: Any, fmt: str | None, out: str) -> None:
    assert (format_date(value) if fmt is None else format_date(value, fmt)) == out


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("yesterday", "not an RFC 3339 date or timestamp: 'yesterday'"),
        ("2025-13-01", "not a valid date"),
        ("2025-02-30T00:00:00Z", "not a valid date or timestamp"),
        ("", "not an RFC 3339"),
        (None, "got NoneType"),
        (1700000000, "got int"),
    ],
)
def test_format_date_rejects_garbage(bad: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        format_date(bad)


@given(st.datetimes(timezones=st.just(UTC)))
def test_parse_date_round_trips_isoformat(moment: datetime) -> None:
    assert parse_date(moment.isoformat()) == moment


@pytest.mark.parametrize(
    ("path", "base", "out"),
    [
        ("/blog/x/", "https://example.com", "https://example.com/blog/x/"),
        ("blog/x/", "https://example.com/", "https://example.com/blog/x/"),
        ("/", "https://example.com", "https://example.com/"),
        ("", "https://example.com", "https://example.com/"),
        ("/a?b=1#c", "https://example.com/sub/", "https://example.com/sub/a?b=1#c"),
        ("https://other.org/x", "https://example.com", "https://other.org/x"),
        ("//cdn.example/x", "https://example.com", "//cdn.example/x"),
        ("mailto:a@b.c", "https://example.com", "mailto:a@b.c"),
        (
            "/blog/crème brûlée/",
            "https://e.com",
            "https://e.com/blog/cr%C3%A8me%20br%C3%BBl%C3%A9e/",
        ),
        (
            "/blog/cr%C3%A8me/?q=a+b&x=1",
            "https://e.com",
            "https://e.com/blog/cr%C3%A8me/?q=a+b&x=1",
        ),
    ],
)
def test_absolute_url(path: str, base: str, out: str) -> None:
    assert absolute_url(path, base) == out


@pytest.mark.parametrize("base", ["", "example.com", "ftp://example.com", "https://"])
def test_absolute_url_needs_http_base(base: str) -> None:
    with pytest.raises(ValueError, match=r"site\.base_url must be an http"):
        absolute_url("/x/", base)
