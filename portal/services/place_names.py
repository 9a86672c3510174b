"""The first keystrokes of a place name: how search answers a query of one short piece of text.

A query that is one piece of one or two characters ("东方", "df") finds the addresses where it begins a word of the
search text after the first: a township, road or community name, or the pinyin initials or full pinyin of a road
or community (addresses._search_text, _begins_word). Tens of thousands of addresses may match, but they have few
names: ``place_name`` (migration 0025, kept by triggers on ``address``) holds every name of an active address with
its count. Search finds the names whose words the piece begins here, reads each name's first addresses from its
index in search's order (models.address._in_search_order) and merges them: the same addresses in the same order,
and the same count, as addresses.search_statement gives, without reading and sorting all of them
(tests/integration/test_place_names.py compares the two; timings in bench/README.md).

The one difference: search_text is cut at 400 characters, so a word at its end may be cut short there; here a
name's words are whole. Only an address whose components together are longer than about 330 characters has one.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal, select, union
from sqlalchemy.orm import Session

from portal.models import Address, AddressStatus, PlaceName
from portal.models.address import PLACE_KINDS
from portal.services.address_norm import compact, pinyin_keys

#: More names than this (a single letter may begin hundreds of pinyin words) and the plain statement answers:
#: one part per name would cost more than it saves.
MAX_NAMES = 48
#: Up to this many ids from the names' indexes, a page reads their addresses by id; beyond, it chooses by their keys.
FEW_IDS = 1000


@functools.lru_cache(maxsize=65536)
def words(kind: str, name: str) -> tuple[str, ...]:
    """The words that a place name of this kind gives an address's search text (addresses._search_text): the
    name, and for a road or community its pinyin initials and full pinyin."""
    found = [compact(name)]
    if kind != "township":
        found.extend(pinyin_keys(name))
    return tuple(w for w in found if w)


@dataclass(frozen=True)
class Begun:
    """The place names that a short piece of text begins a word of, and what else the addresses must be."""

    names: list[tuple[str, str, int]]  # kind, name, active addresses with it
    conditions: list[ColumnElement[bool]]
    scoped: bool  # restricted to some beats: the counts of place_name do not apply

    def _parts(self, order: Sequence[Any], limit: int, *, keys: bool = False) -> Select:
        """The first ``limit`` addresses of each name in ``order``, together (with their values of ``order`` as
        k0, k1 ... when ``keys``): the first ``limit`` of all of them are among these, since each is among the first
        of its own name. An address of two names (a road and a community) is one row of the union."""
        columns = [Address.id, *(e.label(f"k{i}") for i, e in enumerate(order))] if keys else [Address.id]
        parts = [select(*columns).where(getattr(Address, kind) == name, *self.conditions)
                 .order_by(*order).limit(limit) for kind, name, _n in self.names]
        if len(parts) == 1:
            return parts[0]
        return union(*(select(*part.subquery().c) for part in parts))

    def page(self, order: Sequence[Any], offset: int, limit: int) -> Select | None:
        """The addresses from ``offset`` to ``offset + limit`` in ``order``, or None when no name matched. When the
        parts hold many ids (a deep page), the page is chosen from their ids and keys and only its own addresses are
        read: PostgreSQL would read every address to join thousands of ids. The first pages read the parts'
        addresses by id, which is faster for a few hundred (bench/README.md)."""
        if not self.names:
            return None
        wanted = offset + limit
        if len(self.names) * wanted <= FEW_IDS:
            return (select(Address).where(Address.id.in_(self._parts(order, wanted))).order_by(*order)
                    .offset(offset).limit(limit))
        merged = self._parts(order, wanted, keys=True).subquery()
        chosen = (select(merged.c.id).order_by(*(merged.c[f"k{i}"] for i in range(len(order))))
                  .offset(offset).limit(limit))
        return select(Address).where(Address.id.in_(chosen)).order_by(*order)

    def count(self, session: Session, cap: int) -> int:
        """How many addresses match, counted up to ``cap`` (more may match when it says ``cap``)."""
        if not self.names:
            return 0
        if not self.scoped and max(n for _kind, _name, n in self.names) >= cap:
            return cap  # one name alone has that many
        parts = self._parts((), cap).subquery()  # any of each name's addresses: no order
        return min(cap, session.scalar(select(func.count()).select_from(parts)) or 0)


def begun(session: Session, piece: str, conditions: list[ColumnElement[bool]], *, scoped: bool) -> Begun | None:
    """The place names one of whose words this piece begins, for addresses that also meet ``conditions``
    (active, in some beats); None when there are more than MAX_NAMES of them."""
    names = [(kind, name, n) for kind, name, n in
             session.execute(select(PlaceName.kind, PlaceName.name, PlaceName.addresses)
                             .order_by(PlaceName.kind, PlaceName.name))
             if any(word.startswith(piece) for word in words(kind, name))]
    if len(names) > MAX_NAMES:
        return None
    return Begun(names, conditions, scoped)


def refill(connection) -> None:
    """Count ``place_name`` afresh from the addresses, as migration 0025 fills it: for bench/generate.py after a
    bulk load with the triggers off (a row trigger per address updates the same few names again and again in one
    transaction: 600,000 addresses by COPY took 1,050 s with them on PostgreSQL, 10 s without)."""
    connection.execute(delete(PlaceName))
    for kind in PLACE_KINDS:
        column = getattr(Address, kind)
        connection.execute(insert(PlaceName).from_select(
            ["kind", "name", "addresses"],
            select(literal(kind), column, func.count()).where(Address.status == AddressStatus.active, column != "")
            .group_by(column)))
