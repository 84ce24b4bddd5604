"""Walking a keyset-paged read to its end: the operator commands, exports, the dashboard's CSV
and the history's trends all read whole listings this way.

Owns the loop over `Page.last_key`. Must not know what is being read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from complyd.model import Page

T = TypeVar("T")
Fetch = Callable[[tuple[str, ...] | None], Page[T]]


def all_pages(fetch: Fetch[T]) -> Iterator[Page[T]]:
    """Every page of a listing: `fetch(after)` reads the page after `after` (None: the first)."""
    after: tuple[str, ...] | None = None
    while True:
        page = fetch(after)
        yield page
        if page.last_key is None:
            return
        after = page.last_key


def all_rows(fetch: Fetch[T]) -> Iterator[T]:
    """Every row of a listing, one page at a time."""
    for page in all_pages(fetch):
        yield from page.rows
