"""Candidate duplicate standard addresses (the virtual-house clean-up): pairs that are probably one door.

Two addresses are compared in the written form of ``address_norm`` (full-width and half-width, spaces and
punctuation, 栋/幢/号楼/座, 单元/门, 室/号, Chinese numerals, 之 and - in door numbers), so "韶山中路88号银海花园
十三栋4单元402室" and "韶山 中路 88 号 银海花园 13幢4门402" are the same address written twice.

Candidates are found by blocking, never by comparing every pair of a bureau: only addresses with the same
division, road, door, building, unit and room keys (``block_key``) are compared, and within a block each pair
is scored by its township and community (``score``). A block is one door of one room, so blocks are tiny and
the work grows with the number of addresses, not its square (bench/README.md, "Duplicate addresses").
"""
from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Address, AddressStatus, Beat, Bureau, Station
from portal.services.address_norm import fold, normalise_key

#: Pairs that score less are not shown. Chosen on tests/fixtures/address_duplicate_pairs.csv.
THRESHOLD = 0.75
COMPONENTS = ("division_code", "township", "road", "door_no", "community", "building", "unit", "room")
# A block larger than this is one door plate written for thousands of rooms, not duplicates: skipped.
MAX_BLOCK = 50


@dataclass(frozen=True)
class Candidate:
    """Two addresses that are probably one, with a score from THRESHOLD to 1 (1: the same once normalised)."""

    score: float
    first: Any  # an Address, or any object with the COMPONENTS and an id
    second: Any
    reason: str  # "same" (identical once normalised), "community", "township", "community+township"


def block_key(a: Any) -> tuple[str, ...]:
    """What two addresses must share to be compared: division, road, door, building, unit and room."""
    return (a.division_code or "", fold(a.road), normalise_key(a.door_no or ""), normalise_key(a.building or ""),
            normalise_key(a.unit or ""), normalise_key(a.room or ""))


_NUMBERS = str.maketrans("", "", "0123456789零〇一二两三四五六七八九十百千")


def _names_score(x: str, y: str) -> float:
    if x == y:
        return 1.0
    if not x or not y:  # one was written without it
        return 0.85
    if x.translate(_NUMBERS) == y.translate(_NUMBERS):  # 银海花园一期 and 二期: two places that are numbered
        return 0.0
    if x in y or y in x:  # "银海花园" and "银海花园小区"
        return 0.9
    return SequenceMatcher(None, x, y).ratio()


def score(a: Any, b: Any) -> tuple[float, str] | None:
    """How likely two addresses are one (0 to 1) and why they differ, or None when their blocks differ."""
    if block_key(a) != block_key(b):
        return None
    community = _names_score(fold(a.community), fold(b.community))
    township = _names_score(fold(a.township), fold(b.township))
    differs = [name for name, s in (("community", community), ("township", township)) if s < 1]
    # The community names the building; a township is often left out or written another way.
    value = community * (0.9 + 0.1 * township)
    return round(value, 3), "+".join(differs) or "same"


def candidates(rows: Any, *, threshold: float = THRESHOLD) -> Iterator[Candidate]:
    """Scored pairs among these addresses, block by block (in no particular order)."""
    blocks: dict[tuple[str, ...], list[Any]] = {}
    for row in rows:
        blocks.setdefault(block_key(row), []).append(row)
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for a, b in itertools.combinations(members, 2):
            if a.id > b.id:  # the rows come in no set order (PostgreSQL's heap): the older address first
                a, b = b, a
            scored = score(a, b)
            if scored is not None and scored[0] >= threshold:
                yield Candidate(scored[0], a, b, scored[1])


def find(session: Session, *, bureau_code: str | None = None, limit: int = 100, threshold: float = THRESHOLD,
         exclude: Collection[tuple[int, int]] = ()) -> list[Candidate]:
    """The most likely duplicate pairs of the register's active addresses (or of one bureau's), best first: at
    most ``limit``, without the pairs in ``exclude`` ((smaller id, larger id): said not to be the same)."""
    columns = (Address.id, Address.code, *(getattr(Address, c) for c in COMPONENTS))
    stmt = select(*columns).where(Address.status == AddressStatus.active)
    if bureau_code is not None:
        stmt = (stmt.join(Beat, Address.beat_id == Beat.id).join(Station, Beat.station_id == Station.id)
                .join(Bureau, Station.bureau_id == Bureau.id).where(Bureau.code == bureau_code))
    rows = session.execute(stmt.execution_options(yield_per=10_000))
    skip = set(exclude)
    found = sorted((c for c in candidates(rows, threshold=threshold)
                    if (min(c.first.id, c.second.id), max(c.first.id, c.second.id)) not in skip),
                   key=lambda c: (-c.score, c.first.id, c.second.id))
    return found[: max(0, limit)]


def address_text(a: Any) -> str:
    """One line for a person: the components in standard order."""
    parts = [a.township, (a.road or "") + (a.door_no or ""), a.community, a.building, a.unit, a.room]
    return " ".join(p for p in parts if p)
