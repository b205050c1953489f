"""One name-to-factory registry, shared by data sets, models, layers and optimizers."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps exact names (and aliases) to entries.

    An unknown name raises a ``ValueError`` that names the kind, the bad name
    and the closest registered names, e.g.::

        unknown optimizer 'adma'; did you mean 'adam', 'adamw'? (known: ...)

    Parameters
    ----------
    kind : str
        What the entries are ("dataset", "model", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, entry: T, *, aliases: tuple[str, ...] = ()) -> T:
        """Add ``entry`` under ``name`` (and ``aliases``); returns the entry."""
        for key in (name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is already registered")
        self._entries[name] = entry
        for alias in aliases:
            self._aliases[alias] = name
        return entry

    def decorator(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """``@registry.decorator("name")`` form of :meth:`register`."""

        def wrap(entry: T) -> T:
            return self.register(name, entry, aliases=aliases)

        return wrap

    def canonical(self, name: str) -> str:
        """The registered name behind ``name`` (itself or the alias target)."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise ValueError(self.unknown_message(name))

    def get(self, name: str) -> T:
        """The entry registered under ``name``; ``ValueError`` with close matches if none."""
        return self._entries[self.canonical(name)]

    def unknown_message(self, name: object) -> str:
        """The error text for an unknown ``name``: close matches and the known names."""
        known = sorted(self._entries)
        candidates = known + sorted(self._aliases)
        close = difflib.get_close_matches(str(name), candidates, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} (known: {', '.join(known)})"

    def names(self) -> list[str]:
        """Registered names (aliases excluded), sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
