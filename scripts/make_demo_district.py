#!/usr/bin/env python3
"""Write the demo district (湖南省湘潭市雨湖区) as an address CSV: data/demo_district.csv.

Deterministic: running it again gives the same file byte for byte. The communities, roads and police
units are realistic but made up; the codes are left blank so the portal derives them.

    python scripts/make_demo_district.py [OUTPUT]
"""
from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("bureau_code", "bureau_name", "station_code", "station_name", "beat_code", "beat_name",
           "division_code", "division_name", "township", "road", "door_no", "community", "building", "unit",
           "room", "code")
DIVISION_CODE = "430302"
DIVISION_NAME = "湖南省湘潭市雨湖区"
BUREAU = ("430302000000", "湘潭市公安局雨湖分局")
STATIONS = {
    "云塘": ("430302510000", "云塘派出所"),
    "城正": ("430302520000", "城正街派出所"),
}
BEATS = {
    "YT1": ("云塘", "430302510001", "云塘第一警务区"),
    "YT2": ("云塘", "430302510002", "云塘第二警务区"),
    "CZ1": ("城正", "430302520001", "城正第一警务区"),
    "CZ2": ("城正", "430302520002", "城正第二警务区"),
}
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "data" / "demo_district.csv"


@dataclass(frozen=True)
class Estate:
    """A door with buildings behind it: a residential community, or a lone block (community "")."""

    beat: str
    township: str
    road: str
    door: int
    community: str
    buildings: int
    units: int  # 0: rooms directly in the building, no units
    floors: int
    rooms_per_floor: int


ESTATES = (
    # 银海花园 13栋 4单元 402 is the address the README and the tests search for.
    Estate("YT1", "云塘街道", "韶山中路", 88, "银海花园", 16, 4, 6, 2),
    Estate("YT1", "云塘街道", "韶山中路", 126, "云塘小区", 8, 2, 6, 2),
    Estate("YT2", "云塘街道", "建设北路", 12, "金湖湾小区", 8, 2, 6, 2),
    Estate("YT2", "云塘街道", "建设北路", 15, "", 2, 2, 6, 2),
    Estate("YT2", "先锋街道", "先锋路", 3, "先锋新村", 10, 2, 5, 2),
    Estate("CZ1", "城正街街道", "人民路", 120, "雨湖名都", 6, 3, 11, 2),
    Estate("CZ1", "城正街街道", "人民路", 33, "", 1, 1, 6, 3),
    Estate("CZ1", "城正街街道", "平政路", 45, "城正嘉苑", 4, 2, 7, 2),
    Estate("CZ2", "窑湾街道", "沿江北路", 16, "江景家园", 5, 2, 6, 2),
    Estate("CZ2", "窑湾街道", "窑湾路", 9, "窑湾人家", 3, 0, 4, 2),
)

# Street-front doors (shops, offices, old houses): door plates only.
SHOPFRONTS = (
    ("YT1", "云塘街道", "韶山中路", range(90, 125, 2)),
    ("YT2", "云塘街道", "建设北路", range(1, 30, 2)),
    ("YT2", "先锋街道", "先锋路", range(2, 21, 2)),
    ("CZ1", "城正街街道", "人民路", range(1, 60, 2)),
    ("CZ1", "城正街街道", "平政路", range(2, 41, 2)),
    ("CZ2", "窑湾街道", "沿江北路", range(1, 22, 2)),
    ("CZ2", "窑湾街道", "窑湾路", range(1, 8, 2)),
)


def _jurisdiction(beat: str) -> list[str]:
    station_key, beat_code, beat_name = BEATS[beat]
    station_code, station_name = STATIONS[station_key]
    return [*BUREAU, station_code, station_name, beat_code, beat_name]


def rows() -> list[list[str]]:
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()

    def add(beat: str, township: str, road: str, door: int, community: str = "", building: str = "",
            unit: str = "", room: str = "") -> None:
        address = [DIVISION_CODE, DIVISION_NAME, township, road, f"{door}号", community, building, unit, room]
        key = (address[0], *address[2:])
        if key not in seen:  # a lone block's door is also a street-front door
            seen.add(key)
            out.append([*_jurisdiction(beat), *address, ""])

    for e in ESTATES:
        add(e.beat, e.township, e.road, e.door, e.community)
        for b in range(1, e.buildings + 1):
            add(e.beat, e.township, e.road, e.door, e.community, f"{b}栋")
        for b in range(1, e.buildings + 1):
            for u in range(1, max(e.units, 1) + 1):
                for floor in range(1, e.floors + 1):
                    for r in range(1, e.rooms_per_floor + 1):
                        add(e.beat, e.township, e.road, e.door, e.community, f"{b}栋",
                            f"{u}单元" if e.units else "", f"{floor}{r:02d}")
    for beat, township, road, doors in SHOPFRONTS:
        for door in doors:
            add(beat, township, road, door)
    return out


def write(path: Path) -> int:
    data = rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(data)
    return len(data)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    n = write(path)
    print(f"{n} addresses written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
