"""Fill an empty database with a realistic city for the queue benchmark (issue 3, item 13).

    .venv/bin/python bench/generate.py --url sqlite:///bench/out/bench.sqlite3
    .venv/bin/python bench/generate.py --url postgresql:///bench

Creates the schema with portal.migrate.upgrade (the app's own migrations), then bulk-loads a jurisdiction
tree, room-level standard addresses, landlords, houses, persons with valid resident ID numbers,
tenancies, submissions (the open ones in the officers' queues and the decided history) and decisions; and for
the anomaly lists and the claim flags (issue 15): second landlords' houses on an address, whole buildings and
units registered over others' rooms, employers with their units (a few credit codes registered twice), the
units' staff lists with their hires and departures, and the employments. Flags are those the portal would
have set at filing.
Rows are built in Python with explicit ids, then written with SQLAlchemy Core executemany in large
batches on SQLite, and with COPY on PostgreSQL (secondary indexes and foreign keys are dropped for the
load and re-created afterwards, which also re-checks every reference). The anomaly lists' summary triggers
(services/anomaly_summaries.py) are off for the load; the summaries are then filled by the migration's own
back-fill statements and the triggers put back. Prints the time of each phase.

The data is deterministic for a given --seed (receipts and TOTP keys included). Benchmark data only: the
officer accounts have a published password and TOTP key (bench/bench_common.py).
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import random
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from sqlalchemy import create_engine, func, inspect, select, text  # noqa: E402
from stdnum.cn import ric, uscc  # noqa: E402
from stdnum.iso7064 import mod_37_36  # noqa: E402

from portal import fieldcrypt, migrate  # noqa: E402
from portal.db import make_engine, normalise_url  # noqa: E402
from portal.models import Base, SpecialTrade, UnitType  # noqa: E402
from portal.services import (  # noqa: E402
    addresses,
    anomaly_summaries,
    declarations,
    flags,
    identity,
    place_names,
    quality_summaries,
    receipts,
    staff_import,
)
from portal.services.passwords import hash_password  # noqa: E402
from portal.services.reporting import due_at  # noqa: E402
from portal.services.units import UnitDetails  # noqa: E402

LOCAL = ZoneInfo("Asia/Shanghai")
DEADLINE_DAYS = 3  # REPORT_DEADLINE_DAYS default

# --- names and places ----------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
            "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
            "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强志明永红海燕小红玉"
         "兰春梅文军晓东晓明俊杰子轩浩然梓涵欣怡雨涵一诺思远佳怡宇航泽宇博文婷婷丹丹鹏飞国强红梅"
         "金凤凤英德华")
FOREIGN_NAMES = ("JOHN SMITH", "MARIA GARCIA", "KIM MIN-JUN", "NGUYEN VAN AN", "TANAKA HIROSHI",
                 "ANNA MÜLLER", "DAVID O'BRIEN", "PRIYA SHARMA")
NATIONALITIES = ("USA", "GBR", "KOR", "VNM", "JPN", "DEU")  # ISO 3166-1 alpha-3, as the declaration keeps them
OCCUPATIONS = "工人 教师 司机 厨师 护士 销售 快递员 程序员 个体经营 学生 退休 服务员".split()
WORKPLACES = ("湘潭钢铁集团 湘潭大学 雨湖区人民医院 步步高超市 顺丰速运湘潭分部 吉利汽车湘潭基地 "
              "湘潭市第一中学 万达广场 中国移动湘潭分公司 湖南科技大学").split()
RELATIONS = ("spouse", "child", "parent", "relative", "roommate", "other")
ROADS = ("韶山中路 韶山西路 建设北路 雨湖路 人民路 解放北路 和平路 车站路 书院路 白石路 宝塔路 平政路 "
         "羊牯塘路 桃园路 福星路 芙蓉路 大埠桥路 滴水埠路 楠竹山路 鹤岭路").split()
COMMUNITY_HEAD = ("银海 金域 碧桂 湘江 龙湾 紫荆 翠竹 锦绣 华府 阳光 盘龙 枫林 丽景 东方 天易 福星 恒大 "
                  "万科 保利 中建").split()
COMMUNITY_TAIL = "花园 小区 新村 名苑 公寓 家园 豪庭 雅居".split()
STATIONS = "云塘 雨湖路 城正街 广场 窑湾 先锋 昭潭 楠竹山 长城 姜畲 鹤岭 护潭".split()
# Division codes of Hunan that stdnum knows (checked at start-up): where the people's IDs were issued.
REGIONS = ("430302", "430304", "430321", "430381", "430382", "430102", "430103", "430104", "430105", "430111",
           "430202", "430203", "430204", "430211", "430402", "430405", "430406", "430407", "430408", "430421",
           "430521", "430602", "430702", "430802", "430902", "431002", "431102", "431202", "431302", "433101",
           "440106", "420102", "360102", "450103", "500103", "510104")
USES = ("whole_rental", "shared_rental", "owner_occupied_rooms", "vacant", "business")
USE_WEIGHTS = (45, 30, 15, 7, 3)
REJECT_CODES = ("identity_mismatch", "not_living_here", "wrong_address", "duplicate", "incomplete")
# Units: the USCC's registering authority and kind by unit type (9 enterprise, 92 individual business, 12 public
# institution, 52 social organisation), and stdnum's alphabet of the organisation code.
USCC_PREFIX = {"enterprise": "91", "individual_business": "92", "public_institution": "12",
               "social_organisation": "52"}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
UNIT_WORDS = "商贸 物流 餐饮 建材 电子 家政 酒店 汽修 印务 科技 服饰 超市".split()
UNIT_TAIL = {"enterprise": ("有限公司", "有限责任公司", "实业有限公司"),
             "individual_business": ("店", "经营部", "商行"), "public_institution": ("服务中心", "管理所"),
             "social_organisation": ("协会", "促进会")}
INDUSTRIES = "餐饮 零售 物流 制造 建筑 住宿 维修 教育 医疗 信息技术 家政服务 批发".split()
SPECIAL_TRADES = ("hotel", "seal_engraving", "locksmith", "scrap_metal", "pawn", "used_vehicles", "entertainment")
POSITIONS = "店员 厨师 司机 保安 会计 仓管 技工 经理 服务员 快递员 文员 学徒".split()


def overlapping(a: tuple, b: tuple) -> bool:
    """flags.overlapping on two of the generator's address rows: the same building, neither a door plate, and below
    the building the one's unit and room the start of the other's (an empty component ends an address)."""
    for i in (9, 10):  # unit, room
        rest = range(i, 11)
        if not (a[i] == b[i] or all(a[r] == "" for r in rest) or all(b[r] == "" for r in rest)):
            return False
    return a[2:9] == b[2:9] and "door_plate" not in (a[11], b[11])


STANDING = ("pending", "verified")  # RecordStatus.ACTIVE: a house or unit that stands
# The flag of each kind of claim, by the submission's column that it names (flags.CLAIMS).
CLAIM_CODES = {column: code for code, (_kind, column) in flags.CLAIMS.items()}


def flag_claims(registrations: list[dict], column: str, rivals) -> None:
    """The claim flags as the portal sets them at filing: in order of filing, each registration names the rivals
    standing then (`rivals(house or unit id, time)`: flags.for_house, flags.for_unit_code), and each rival's
    registrations open then name it back (flags.tell_rivals)."""
    code, key = CLAIM_CODES[column], column.removesuffix("_id")
    open_of: dict[int, list[dict]] = defaultdict(list)
    for s in sorted(registrations, key=lambda s: s["submitted_at"]):
        mine = s[key]
        for other in rivals(mine, s["submitted_at"]):
            s["flags"].append({"code": code, column: other})
            for theirs in open_of[other]:
                if {"code": code, column: mine} not in theirs["flags"]:
                    theirs["flags"].append({"code": code, column: mine})
        if s["status"] in ("pending", "site_visit"):
            open_of[mine].append(s)


class Timer:
    def __init__(self) -> None:
        self.phases: list[tuple[str, float]] = []
        self.start = time.perf_counter()

    @contextmanager
    def __call__(self, name: str):
        print(f"  {name} ...", flush=True)
        t0 = time.perf_counter()
        yield
        took = time.perf_counter() - t0
        self.phases.append((name, took))
        print(f"  {name}: {took:.1f} s", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.start


class Table:
    """Rows of one table: column names and tuples in that order, ids assigned by the generator."""

    def __init__(self, name: str, columns: list[str]) -> None:
        self.name, self.columns, self.rows = name, columns, []


# --- the generator ------------------------------------------------------------------------------

class City:
    def __init__(self, args) -> None:
        self.a = args
        self.rng = random.Random(args.seed)
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        self.today = self.now.astimezone(LOCAL).date()
        self.tables: dict[str, Table] = {}
        self.password_hash = hash_password(bench_common.PASSWORD)

    def table(self, name: str, columns: str) -> Table:
        t = self.tables[name] = Table(name, columns.split())
        return t

    def ago(self, low_days: float, high_days: float) -> datetime:
        """A random moment between high_days and low_days ago, to the microsecond (keyset ties are rare)."""
        return self.now - timedelta(seconds=self.rng.uniform(low_days * 86400, high_days * 86400))

    # -- jurisdiction and accounts --

    def jurisdiction(self) -> None:
        a, rng = self.a, self.rng
        bureau = self.table("bureau", "id code name")
        bureau.rows.append((1, "430302000000", "湘潭市公安局雨湖分局"))
        stations = self.table("station", "id code name bureau_id")
        beats = self.table("beat", "id code name station_id")
        self.station_of_beat: dict[int, int] = {}
        self.township: dict[int, str] = {}
        self.beat_weight: list[float] = []
        beat_id = 0
        for s in range(1, a.stations + 1):
            short = STATIONS[(s - 1) % len(STATIONS)] + ("" if s <= len(STATIONS) else str(s))
            stations.rows.append((s, f"43030251{s:02d}00", f"{short}派出所", 1))
            self.township[s] = f"{short}街道"
            for b in range(1, a.beats_per_station + 1):
                beat_id += 1
                beats.rows.append((beat_id, f"43030251{s:02d}{b:02d}", f"{short}第{b}警务区", s))
                self.station_of_beat[beat_id] = s
                self.beat_weight.append(rng.uniform(0.5, 1.6))  # some beats are busier than others
        self.beat_ids = list(range(1, beat_id + 1))

    def random_ric(self, seen: set, adult: bool = False) -> tuple[str, str, date]:
        rng = self.rng
        while True:
            if adult:
                age_days = rng.uniform(20 * 365.25, 70 * 365.25)
            else:
                r = rng.random()
                age_days = rng.uniform(0.5, 17.9) if r < 0.08 else rng.uniform(66, 85) if r > 0.95 else \
                    rng.uniform(18, 65)
                age_days *= 365.25
            birth = self.today - timedelta(days=int(age_days))
            body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum wants the 18 characters
            if number not in seen:
                seen.add(number)
                return number, ("M" if int(body[16]) % 2 else "F"), birth

    def chinese_name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))

    def accounts(self) -> None:
        """Landlords first (ids 1..L), then one officer per station and one per beat."""
        a, rng = self.a, self.rng
        users = self.table("user_account",
                           "id role phone name id_number password_hash must_change_password active "
                           "station_id beat_id totp_secret totp_confirmed failed_logins session_version "
                           "created_at")
        seen: set[str] = set()
        for i in range(1, a.landlords + 1):
            number, _sex, _birth = self.random_ric(seen, adult=True)
            users.rows.append((i, "landlord", f"138{i:08d}", self.chinese_name(), number, self.password_hash,
                               False, True, None, None, None, False, 0, 1, self.ago(400, 2000)))
        # Landlords own very different numbers of houses (a few own hundreds).
        self.landlord_cum = list(itertools.accumulate(rng.paretovariate(1.2) for _ in range(a.landlords)))
        self.station_officer = {s: a.landlords + s for s in range(1, a.stations + 1)}
        self.beat_officer = {b: a.landlords + a.stations + b for b in self.beat_ids}

    def officer_rows(self, open_by_station: Counter, open_by_beat: Counter) -> None:
        """Phones are given by busyness: the benchmark signs in at the busiest station and beat."""
        users = self.tables["user_account"]
        ranked = sorted(self.station_officer, key=lambda s: (-open_by_station[s], s))
        for rank, s in enumerate(ranked, start=1):
            phone = f"1391000{rank:04d}"
            users.rows.append((self.station_officer[s], "officer", phone, f"派出所民警{rank}", None,
                               self.password_hash, False, True, s, None, bench_common.totp_secret(phone),
                               True, 0, 1, self.ago(400, 2000)))
        top_station = ranked[0]
        beats = sorted(self.beat_officer,
                       key=lambda b: (self.station_of_beat[b] != top_station, -open_by_beat[b], b))
        for rank, b in enumerate(beats, start=1):
            phone = f"1392000{rank:04d}"
            users.rows.append((self.beat_officer[b], "officer", phone, f"社区民警{rank}", None,
                               self.password_hash, False, True, self.station_of_beat[b], b,
                               bench_common.totp_secret(phone), True, 0, 1, self.ago(400, 2000)))
        self.top_station, self.top_beat = top_station, beats[0]

    # -- addresses and houses --

    def places(self) -> None:
        a, rng = self.a, self.rng
        addr = self.table("address",
                          "id code division_code division_name township road door_no community building unit "
                          "room level beat_id door_key building_key unit_key room_key search_text")
        houses = self.table("house", "id address_id owner_id beat_id use max_occupants certificate_no status "
                                     "created_at")
        per_beat = Counter(rng.choices(self.beat_ids, weights=self.beat_weight, k=a.houses))
        codes: set[str] = set()
        door_counter: Counter = Counter()
        community_counter = 0
        next_id = 1
        self.house_beat: list[int] = [0]  # index = house id
        self.house_text: list[str] = [""]
        self.house_code: list[str] = [""]
        division_name = "湖南省湘潭市雨湖区"
        for beat in self.beat_ids:
            station = self.station_of_beat[beat]
            township = self.township[station]
            remaining = per_beat[beat]
            while remaining > 0:
                community_counter += 1
                door_counter[station] += rng.randint(1, 6)
                road = ROADS[(community_counter * 7 + station) % len(ROADS)]
                door_no = f"{door_counter[station]}号"
                community = COMMUNITY_HEAD[community_counter % len(COMMUNITY_HEAD)] + \
                    COMMUNITY_TAIL[(community_counter // len(COMMUNITY_HEAD)) % len(COMMUNITY_TAIL)]
                n_buildings, n_units = rng.randint(8, 30), rng.randint(1, 4)
                n_floors, n_rooms = rng.randint(6, 33), rng.randint(2, 4)
                rooms = itertools.product(range(1, n_buildings + 1), range(1, n_units + 1),
                                          range(1, n_floors + 1), range(1, n_rooms + 1))
                for bno, uno, floor, rno in rooms:
                    if remaining == 0:
                        break
                    remaining -= 1
                    building, unit, room = f"{bno}栋", f"{uno}单元", f"{floor}{rno:02d}"
                    code = addresses.make_code("430302", township, road, door_no, community, building, unit,
                                               room)
                    if code in codes:  # 50-bit hash: practically never; skip the door rather than fail
                        remaining += 1
                        continue
                    codes.add(code)
                    d = addresses.fill_derived(SimpleNamespace(
                        division_name=division_name, township=township, road=road, door_no=door_no,
                        community=community, building=building, unit=unit, room=room))
                    addr.rows.append((next_id, code, "430302", division_name, township, road, door_no,
                                      community, building, unit, room, str(d.level), beat, d.door_key,
                                      d.building_key, d.unit_key, d.room_key, d.search_text))
                    # Address.text: the address in standard order, as the reporting service stores it.
                    parts = (division_name, township, road + door_no, community, building, unit, room)
                    self.house_text.append(" ".join(p for p in parts if p))
                    self.house_beat.append(beat)
                    self.house_code.append(code)
                    next_id += 1
        # One house per address; owners drawn from the skewed landlord weights.
        total = self.landlord_cum[-1]
        self.house_owner = [0]
        self.house_max: list[int] = [0]
        for hid in range(1, next_id):
            owner = bisect.bisect_left(self.landlord_cum, rng.random() * total) + 1
            use = rng.choices(USES, weights=USE_WEIGHTS)[0]
            max_occ = rng.choice((2, 3, 4, 4, 5, 6, 8))
            cert = f"湘({rng.randint(2010, 2025)})湘潭市不动产权第{rng.randrange(10**7):07d}号" \
                if rng.random() < 0.4 else None
            houses.rows.append([hid, hid, owner, self.house_beat[hid], use, max_occ, cert, "verified",
                                self.ago(1100, 2500)])
            self.house_owner.append(owner)
            self.house_max.append(max_occ)
        self.n_houses = next_id - 1
        self.codes = codes
        self.station_houses: dict[int, list[int]] = defaultdict(list)  # room addresses, whose ids are their houses'
        for h in range(1, next_id):
            self.station_houses[self.station_of_beat[self.house_beat[h]]].append(h)

    # -- people --

    def people(self) -> None:
        a, rng = self.a, self.rng
        persons = self.table("person", "id id_type id_number name sex birth_date phone created_at")
        seen: set[str] = set()
        self.person_doc: list[tuple] = [()]  # id -> (id_type, id_number, name, sex, birth_date, phone)
        for pid in range(1, a.persons + 1):
            r = rng.random()
            if r < 0.98:
                number, sex, birth = self.random_ric(seen)
                id_type, name = "resident_id", self.chinese_name()
            else:
                sex = birth = None
                name = rng.choice(FOREIGN_NAMES)
                if r < 0.99:
                    id_type, number = "passport", f"E{pid:08d}"
                elif r < 0.995:
                    id_type, number = "hk_macau_permit", f"H{pid:08d}"
                elif r < 0.998:
                    id_type, number = "taiwan_permit", f"{pid:08d}"
                else:
                    id_type, number = "foreign_permanent_id", f"USA{pid:012d}"
            phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if rng.random() < 0.7 else None
            persons.rows.append((pid, id_type, number, name, sex, birth, phone, self.ago(30, 1100)))
            self.person_doc.append((id_type, number, name, sex, birth, phone))

    # -- tenancies, submissions, decisions --

    def occupancy(self) -> None:
        """Who lives where: distinct people in most houses, some living at two houses at once, and the
        tenancies that ended. Each move-in report (one or several people) becomes one submission."""
        a, rng = self.a, self.rng
        n_active = round(0.90 * a.persons)
        n_dual = round(0.02 * a.persons)
        n_ended = a.persons - n_active - n_dual
        counts = rng.choices(range(7), weights=(15, 33, 28, 13, 7, 3, 1), k=self.n_houses)
        counts.insert(0, 0)
        total = sum(counts)
        while total != n_active:  # nudge random houses until the total is right
            h = rng.randint(1, self.n_houses)
            if total > n_active and counts[h] > 0:
                counts[h] -= 1
                total -= 1
            elif total < n_active and counts[h] < 8:
                counts[h] += 1
                total += 1
        pool = list(range(1, a.persons + 1))
        rng.shuffle(pool)
        active_people = pool[:n_active]
        # tenancy: [house, person, relation, report index]; reports: [house, [tenancy indices], state]
        self.ten: list[list] = []
        self.reports: list[list] = []
        it = iter(active_people)
        for h in range(1, self.n_houses + 1):
            people = [next(it) for _ in range(counts[h])]
            if not people:
                continue
            groups = [people] if rng.random() < 0.65 else [[p] for p in people]
            for g in groups:
                r = len(self.reports)
                idx = []
                for j, p in enumerate(g):
                    idx.append(len(self.ten))
                    relation = "main_tenant" if j == 0 else rng.choice(RELATIONS)
                    self.ten.append([h, p, relation, r])
                self.reports.append([h, idx, "active"])
        self.empty_houses = [h for h in range(1, self.n_houses + 1) if counts[h] == 0]
        home = {t[1]: t[0] for t in self.ten}
        for _ in range(n_dual):  # someone already living elsewhere is reported at a second house
            p = rng.choice(active_people)
            h = rng.randint(1, self.n_houses)
            if h == home[p]:
                h = h % self.n_houses + 1
            r = len(self.reports)
            self.ten.append([h, p, "main_tenant", r])
            self.reports.append([h, [len(self.ten) - 1], "active"])
        for _ in range(n_ended):  # history: anyone may have lived somewhere before
            p = rng.randint(1, a.persons)
            h = rng.randint(1, self.n_houses)
            r = len(self.reports)
            self.ten.append([h, p, "main_tenant", r])
            self.reports.append([h, [len(self.ten) - 1], "ended"])

    def submissions(self) -> None:
        a, rng = self.a, self.rng
        n_open = a.pending
        n_move_out = round(0.04 * n_open)
        n_house_reg = round(0.08 * n_open)
        n_move_in = n_open - n_move_out - n_house_reg
        active_reports = [i for i, r in enumerate(self.reports) if r[2] == "active"]
        pending_reports = set(rng.sample(active_reports, n_move_in))
        # Per tenancy: status, move_in, lease_end, move_out, occupation, workplace
        n = len(self.ten)
        t_status = ["verified"] * n
        t_in: list[date | None] = [None] * n
        t_lease: list[date | None] = [None] * n
        t_out: list[date | None] = [None] * n
        subs: list[dict] = []

        def occupant_payload(ti: int) -> dict:
            _h, p, relation, _r = self.ten[ti]
            id_type, number, name, sex, birth, phone = self.person_doc[p]
            occupation = rng.choice(OCCUPATIONS) if rng.random() < 0.6 else None
            workplace = rng.choice(WORKPLACES) if occupation and rng.random() < 0.6 else None
            self.ten[ti].extend((occupation, workplace))
            # The application's own declaration says what a stored occupant holds.
            return declarations.payload(declarations.Occupant, declarations.Checked({
                "id_type": id_type, "id_number": number, "name": name, "sex": sex, "birth_date": birth,
                "phone": phone, "occupation": occupation, "workplace": workplace, "relation": relation,
                "nationality": None if id_type == "resident_id" else NATIONALITIES[p % len(NATIONALITIES)]}))

        for r, (h, idx, state) in enumerate(self.reports):
            if r in pending_reports:
                submitted = self.ago(0, 30)
                status = "site_visit" if rng.random() < 0.01 else "pending"
            elif state == "active":
                submitted = self.ago(31, 1000)
                status = "rejected" if rng.random() < 0.02 else "confirmed"
            else:
                submitted = self.ago(700, 1090)
                status = "confirmed"
            delay = rng.choice((0, 0, 1, 1, 2, 3, 5, 9))  # days from moving in to reporting it
            moved_in = submitted.astimezone(LOCAL).date() - timedelta(days=delay)
            lease_end = moved_in + timedelta(days=rng.choice((180, 365, 730))) if rng.random() < 0.7 else None
            due = due_at(moved_in, DEADLINE_DAYS)
            for ti in idx:
                t_in[ti], t_lease[ti] = moved_in, lease_end
                if state == "ended":
                    t_status[ti] = "ended"
                    t_out[ti] = min(moved_in + timedelta(days=rng.randint(60, 600)),
                                    self.today - timedelta(days=40))
                elif status in ("pending", "site_visit"):
                    t_status[ti] = "pending"
                elif status == "rejected":
                    t_status[ti] = "rejected"
            payload = {"address": self.house_text[h], "move_in_date": moved_in.isoformat(),
                       "lease_end_date": lease_end.isoformat() if lease_end else None,
                       "occupants": [occupant_payload(ti) for ti in idx]}
            subs.append({"kind": "move_in", "status": status, "house": h, "tenancy": None, "payload": payload,
                         "flags": [], "late": submitted > due, "due_at": due, "submitted_at": submitted,
                         "report": r})

        # Flags of the open move-ins, computed as the reporting service does at submission.
        active_by_person: dict[int, list[int]] = defaultdict(list)
        active_by_house: dict[int, list[int]] = defaultdict(list)
        for ti, (h, p, *_rest) in enumerate(self.ten):
            if t_status[ti] in ("pending", "verified"):
                active_by_person[p].append(h)
                active_by_house[h].append(ti)
        for s in subs:
            if s["status"] not in ("pending", "site_visit"):
                continue
            h, idx = self.reports[s["report"]][0], self.reports[s["report"]][1]
            people = [self.ten[ti][1] for ti in idx]
            elsewhere = [(j, other) for j, p in enumerate(people) for other in active_by_person[p] if other != h]
            staying = [ti for ti in active_by_house[h] if ti not in idx]
            occupants = [SimpleNamespace(id_type=o["id_type"], birth_date=self.person_doc[p][4],
                                         region_known=o["id_type"] != "resident_id"
                                         or identity.region_known(o["id_number"][:6]))
                         for o, p in zip(s["payload"]["occupants"], people, strict=True)]
            # The application's own flag rules (services/flags.py), on the generated values.
            found = flags.late(s["due_at"], s["submitted_at"]) + flags.move_in_rules(
                occupants, move_in_date=date.fromisoformat(s["payload"]["move_in_date"]), today=self.today,
                max_occupants=self.house_max[h], elsewhere=elsewhere,
                staying_births=[self.person_doc[self.ten[ti][1]][4] for ti in staying])
            s["flags"] = found

        # Open move-outs of verified, current tenancies.
        verified = [ti for ti in range(n) if t_status[ti] == "verified" and t_out[ti] is None]
        for ti in rng.sample(verified, n_move_out):
            h, p = self.ten[ti][0], self.ten[ti][1]
            submitted = self.ago(0, 30)
            delay = rng.choice((0, 1, 2, 4, 8))
            day = max(submitted.astimezone(LOCAL).date() - timedelta(days=delay), t_in[ti])
            due = due_at(day, DEADLINE_DAYS)
            id_type, number, name, *_ = self.person_doc[p]
            late = submitted > due
            subs.append({"kind": "move_out", "status": "site_visit" if rng.random() < 0.01 else "pending",
                         "house": h, "tenancy": ti,
                         "payload": {"address": self.house_text[h], "tenancy_id": None,
                                     "move_out_date": day.isoformat(), "name": name, "id_type": id_type,
                                     "id_number": number},
                         "flags": [{"code": "late"}] if late else [], "late": late, "due_at": due,
                         "submitted_at": submitted, "report": None})

        # House registrations: the open ones on houses nobody has been reported in, and some old ones.
        pending_houses = set(rng.sample(self.empty_houses, min(n_house_reg, len(self.empty_houses))))
        while len(pending_houses) < n_house_reg:
            pending_houses.add(rng.randint(1, self.n_houses))
        self.pending_houses = pending_houses
        house_rows = self.tables["house"].rows
        old = rng.sample(range(1, self.n_houses + 1), self.n_houses // 6)
        for h, is_open in itertools.chain(((h, True) for h in sorted(pending_houses)),
                                          ((h, False) for h in old if h not in pending_houses)):
            row = house_rows[h - 1]
            if is_open:
                row[8] = self.ago(0, 30)
                row[7] = "pending"
            payload = {"address_code": self.house_code[h], "address": self.house_text[h], "use": row[4],
                       "max_occupants": row[5], "certificate_no": row[6]}
            status = ("site_visit" if rng.random() < 0.01 else "pending") if is_open else "confirmed"
            subs.append({"kind": "house_registration", "status": status, "house": h, "tenancy": None,
                         "payload": payload, "flags": [], "late": False, "due_at": None,
                         "submitted_at": row[8], "report": None})

        # Two reporters on one place, and the employers' units with their staff lists.
        subs += self.claims()
        self.flag_house_claims(subs)
        subs += self.units()
        self.flag_unit_claims(subs)

        # Ids in order of filing, as a live system would have given them.
        subs.sort(key=lambda s: s["submitted_at"])
        table = self.table("submission",
                           "id kind status reporter_id beat_id station_id is_open house_id tenancy_id "
                           "payload flags flagged late due_at submitted_at receipt version decided_at "
                           "decided_by_id unit_id employment_id staff_import_id")
        decisions = self.table("decision", "id submission_id actor_id from_status to_status reason_code "
                                           "reason_text at")
        receipt_seen: set[str] = set()
        report_sub: dict[int, int] = {}
        self.open_by_station: Counter = Counter()
        self.open_by_beat: Counter = Counter()
        hire_sub: dict[int, int] = {}
        for sid, s in enumerate(subs, start=1):
            h = s["house"]
            beat = s.get("beat") or self.house_beat[h]  # a unit's reports: the unit's beat and employer
            reporter = s.get("reporter") or self.house_owner[h]
            station = self.station_of_beat[beat]
            while True:  # receipts.new_receipt with the seeded generator: same format and check character
                body = "".join(rng.choices(receipts.ALPHABET, k=receipts.LENGTH - 1))
                receipt = body + mod_37_36.calc_check_digit(body, alphabet=receipts.ALPHABET)
                if receipt not in receipt_seen:
                    receipt_seen.add(receipt)
                    break
            status = s["status"]
            is_open = status in ("pending", "site_visit")
            decided_at = decided_by = None
            if status != "pending":
                decided_by = self.station_officer[station] if rng.random() < 0.5 else self.beat_officer[beat]
                decided_at = min(s["submitted_at"] + timedelta(hours=rng.uniform(0.5, 96)), self.now)
                reason = rng.choice(REJECT_CODES) if status == "rejected" else None
                decisions.rows.append((len(decisions.rows) + 1, sid, decided_by, "pending", status, reason,
                                       None, decided_at))
            if is_open:
                self.open_by_station[station] += 1
                self.open_by_beat[beat] += 1
            tenancy_id = s["tenancy"] + 1 if s["tenancy"] is not None else None
            if tenancy_id is not None:
                s["payload"]["tenancy_id"] = tenancy_id
            if s["report"] is not None:
                report_sub[s["report"]] = sid
            if s.get("hire_of") is not None:
                hire_sub[s["hire_of"]] = sid
            table.rows.append((sid, s["kind"], status, reporter, beat, station, is_open, h,
                               tenancy_id, s["payload"], s["flags"], bool(s["flags"]), s["late"], s["due_at"],
                               s["submitted_at"], receipt, 1 if status == "pending" else 2, decided_at,
                               decided_by, s.get("unit"), s.get("employment_id"), s.get("staff_import")))

        tenancies = self.table("tenancy", "id house_id person_id submission_id move_in_date lease_end_date "
                                          "move_out_date relation occupation workplace status declared_name "
                                          "declared_phone")
        for ti, row in enumerate(self.ten):
            h, p, relation, r, occupation, workplace = row
            # As the landlord declared them (migration 0010): the person's own name and phone here.
            doc = self.person_doc[p]
            tenancies.rows.append((ti + 1, h, p, report_sub[r], t_in[ti], t_lease[ti], t_out[ti], relation,
                                   occupation, workplace, t_status[ti], doc[2], doc[5]))
        self.ten = None  # free memory
        employments = self.table("employment", "id unit_id person_id submission_id position hire_date departure_date "
                                               "declared_name declared_phone status")
        for ei, e in enumerate(self.emp, start=1):  # as the staff-list import writes them (staff_import._commit)
            doc = self.person_doc[e["person"]]
            employments.rows.append((ei, e["unit"], e["person"], hire_sub[ei], e["position"], e["hire_date"],
                                     e["departure_date"], doc[2], doc[5], e["status"]))

    # -- two reporters on one place (issue 15, item 2) --

    def add_address(self, beat: int, parts: tuple) -> int | None:
        """A new building-level address (a whole building, or a unit of it) of `parts` (township, road, door_no,
        community, building, unit); None if it exists already."""
        township, road, door_no, community, building, unit = parts
        division_name = "湖南省湘潭市雨湖区"
        code = addresses.make_code("430302", township, road, door_no, community, building, unit, "")
        if code in self.codes:
            return None
        self.codes.add(code)
        d = addresses.fill_derived(SimpleNamespace(division_name=division_name, township=township, road=road,
                                                   door_no=door_no, community=community, building=building,
                                                   unit=unit, room=""))
        rows = self.tables["address"].rows
        aid = len(rows) + 1
        rows.append((aid, code, "430302", division_name, township, road, door_no, community, building, unit, "",
                     str(d.level), beat, d.door_key, d.building_key, d.unit_key, d.room_key, d.search_text))
        return aid

    def add_house(self, address_id: int, owner: int, use: str, max_occ: int, status: str,
                  created: datetime) -> int:
        a = self.tables["address"].rows[address_id - 1]
        houses = self.tables["house"].rows
        hid = len(houses) + 1
        houses.append([hid, address_id, owner, a[12], use, max_occ, None, status, created])
        parts = (a[3], a[4], a[5] + a[6], a[7], a[8], a[9], a[10])  # Address.text, as in places()
        self.house_text.append(" ".join(p for p in parts if p))
        self.house_beat.append(a[12])
        self.house_code.append(a[1])
        self.house_owner.append(owner)
        self.house_max.append(max_occ)
        return hid

    def other_landlord(self, *taken: int) -> int:
        while True:
            owner = bisect.bisect_left(self.landlord_cum, self.rng.random() * self.landlord_cum[-1]) + 1
            if owner not in taken:
                return owner

    def registration(self, h: int, status: str) -> dict:
        row = self.tables["house"].rows[h - 1]
        payload = {"address_code": self.house_code[h], "address": self.house_text[h], "use": row[4],
                   "max_occupants": row[5], "certificate_no": row[6]}
        return {"kind": "house_registration", "status": status, "house": h, "tenancy": None, "payload": payload,
                "flags": [], "late": False, "due_at": None, "submitted_at": row[8], "report": None}

    def claims(self) -> list[dict]:
        """At about 0.3% of the room addresses a second landlord's house, and about one building (or a unit of
        it) per 6,000 houses registered whole by one landlord over the rooms others hold (at least one per
        station), each with its registration. Where the house already there is waiting for the police, the
        second is an older verified one; elsewhere the second is the newcomer, waiting (flag_house_claims)."""
        rng, house_rows = self.rng, self.tables["house"].rows
        subs = []
        for h in rng.sample(range(1, self.n_houses + 1), round(0.003 * self.n_houses)):
            there = house_rows[h - 1]
            owner = self.other_landlord(there[2])
            if there[7] == "pending":
                hid = self.add_house(there[1], owner, there[4], there[5], "verified", self.ago(200, 1000))
                subs.append(self.registration(hid, "confirmed"))
            else:
                hid = self.add_house(there[1], owner, there[4], there[5], "pending", self.ago(0, 30))
                subs.append(self.registration(hid, "site_visit" if rng.random() < 0.05 else "pending"))
        by_station = self.station_houses
        stations = sorted(by_station)
        wanted = max(round(self.n_houses / 6000), len(stations))
        made = 0
        while made < wanted:
            h = rng.choice(by_station[stations[made % len(stations)]])
            a = self.tables["address"].rows[h - 1]
            unit = a[9] if rng.random() < 0.5 else ""  # a whole building, or one unit of it
            aid = self.add_address(a[12], (a[4], a[5], a[6], a[7], a[8], unit))
            if aid is None:
                continue
            hid = self.add_house(aid, self.other_landlord(), rng.choice(("whole_rental", "business")),
                                 rng.choice((20, 40, 60)), "pending", self.ago(0, 30))
            subs.append(self.registration(hid, "pending"))
            made += 1
        return subs

    def flag_house_claims(self, subs: list[dict]) -> None:
        """claimed_by_another in the buildings that hold a second claim: the rivals of a house are the other
        landlords' houses standing on an overlapping place (flags.rival_houses)."""
        addr, house_rows = self.tables["address"].rows, self.tables["house"].rows
        claimed = {addr[house_rows[h - 1][1] - 1][2:9] for h in range(self.n_houses + 1, len(house_rows) + 1)}
        here: dict[tuple, list] = defaultdict(list)  # building -> its houses
        for row in house_rows:
            if addr[row[1] - 1][2:9] in claimed:
                here[addr[row[1] - 1][2:9]].append(row)

        def rivals(h: int, at: datetime) -> list[int]:
            mine = house_rows[h - 1]
            mine_at = addr[mine[1] - 1]
            return [other[0] for other in here[mine_at[2:9]] if other[2] != mine[2] and other[8] <= at
                    and other[7] in STANDING and overlapping(addr[other[1] - 1], mine_at)]

        flag_claims([s for s in subs if s["kind"] == "house_registration"
                     and addr[house_rows[s["house"] - 1][1] - 1][2:9] in claimed], "house_id", rivals)

    # -- employers, units, staff lists --

    def new_uscc(self, unit_type: str) -> str:
        """A unified social credit code that stdnum.cn.uscc accepts: authority and kind by the unit's type, the
        district's division code, a 9-character organisation code and the check character."""
        body = USCC_PREFIX[unit_type] + "430302" + "".join(self.rng.choices(USCC_ALPHABET, k=9))
        return body + uscc.calc_check_digit(body)

    def employers(self, n: int) -> list[int]:
        """Employer accounts (ids after the officers'), each with a valid resident ID number."""
        users = self.tables["user_account"]
        first = self.a.landlords + self.a.stations + len(self.beat_ids) + 1
        seen: set[str] = set()
        for i in range(n):
            number, _sex, _birth = self.random_ric(seen, adult=True)
            users.rows.append((first + i, "employer", f"137{i + 1:08d}", self.chinese_name(), number,
                               self.password_hash, False, True, None, None, None, False, 0, 1, self.ago(400, 2000)))
        return list(range(first, first + n))

    def unit_registration(self, uid: int, status: str) -> dict:
        """The registration as services/units.register_unit files it: its payload (UnitDetails.as_payload) and
        its own flag (flags.for_unit); the claims' flags come from flag_unit_claims."""
        u = self.tables["unit"].rows[uid - 1]
        details = UnitDetails(
            uscc=u[2], name=u[3], unit_type=UnitType(u[4]), industry=u[5],
            special_trade=SpecialTrade(u[6]) if u[6] else None,
            address=SimpleNamespace(code=self.house_code[u[7]], text=self.house_text[u[7]]), legal_rep_name=u[9],
            legal_rep_id_number=u[10], legal_rep_region_known=identity.region_known(u[10][:6]), contact_name=u[11],
            contact_phone=u[12])
        return {"kind": "unit_registration", "status": status, "house": None, "tenancy": None,
                "payload": details.as_payload(), "flags": flags.for_unit(details.legal_rep_region_known),
                "late": False, "due_at": None, "submitted_at": u[14], "report": None, "unit": uid, "beat": u[8],
                "reporter": u[1]}

    def add_unit(self, owner: int, code: str | None, address_id: int, created: datetime, status: str) -> int:
        rng, rows = self.rng, self.tables["unit"].rows
        unit_type = rng.choices(tuple(USCC_PREFIX), weights=(80, 14, 4, 2))[0]
        number, _sex, _birth = self.random_ric(self.rep_numbers, adult=True)
        name = f"湘潭市{rng.choice(COMMUNITY_HEAD)}{rng.choice(UNIT_WORDS)}{rng.choice(UNIT_TAIL[unit_type])}"
        trade = rng.choice(SPECIAL_TRADES) if rng.random() < 0.05 else None
        uid = len(rows) + 1
        # Units stand on room-level addresses here, whose ids are their houses' ids.
        rows.append((uid, owner, code or self.new_uscc(unit_type), name, unit_type, rng.choice(INDUSTRIES), trade,
                     address_id, self.house_beat[address_id], self.chinese_name(), number, self.chinese_name(),
                     f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", status, created))
        return uid

    def units(self) -> list[dict]:
        """About one unit per 120 houses, on addresses spread over the beats as the houses are, owned by employers
        (about 0.6 per unit, a few with many units), each registered with its staff lists (staff_lists); and one
        unit in a hundred (at least one per station) whose credit code another employer registers again lately,
        at an address of station 1, 2, ... in turn."""
        rng = self.rng
        self.table("unit", "id owner_id uscc name unit_type industry special_trade address_id beat_id legal_rep_name "
                           "legal_rep_id_number contact_name contact_phone status created_at")
        self.table("staff_import", "id unit_id uploader_id filename content_digest full_list rows valid invalid hires "
                                   "departures unchanged errors created_at")
        self.emp: list[dict] = []
        self.rep_numbers: set[str] = set()
        n_units = max(round(self.n_houses / 120), 1)
        owners = self.employers(max(round(0.6 * n_units), 2))  # two at least: a shared code needs another
        owner_cum = list(itertools.accumulate(rng.paretovariate(1.5) for _ in owners))
        adults = [p for p in range(1, len(self.person_doc)) if self.person_doc[p][0] == "resident_id"
                  and 18 <= (self.today - self.person_doc[p][4]).days / 365.25 < 60]
        rng.shuffle(adults)
        self.staff_pool = iter(adults)
        subs = []
        by_station: dict[int, list[int]] = defaultdict(list)
        for _ in range(n_units):
            owner = owners[bisect.bisect_left(owner_cum, rng.random() * owner_cum[-1])]
            address_id = rng.randint(1, self.n_houses)
            recent = rng.random() < 0.03  # registered in the last 30 days, still waiting for the police
            created = self.ago(0, 30) if recent else self.ago(31, 1500)
            uid = self.add_unit(owner, None, address_id, created, "pending" if recent else "verified")
            subs.append(self.unit_registration(uid, "pending" if recent else "confirmed"))
            by_station[self.station_of_beat[self.house_beat[address_id]]].append(uid)
        # About 15% of each station's units (at least one) stopped sending lists over 90 days ago.
        quiet = set()
        for units in by_station.values():
            quiet.update(rng.sample(units, max(1, round(0.15 * len(units)))))
        for uid in range(1, n_units + 1):
            subs += self.staff_lists(uid, uid in quiet)
        unit_rows = self.tables["unit"].rows
        stations = sorted(by_station)
        shared = min(max(round(n_units / 100), len(stations)), n_units)
        for i, uid in enumerate(rng.sample(range(1, n_units + 1), shared)):
            first = unit_rows[uid - 1]
            station = stations[i % len(stations)]
            owner = first[1]
            while owner == first[1]:
                owner = owners[bisect.bisect_left(owner_cum, rng.random() * owner_cum[-1])]
            again = self.add_unit(owner, first[2], rng.choice(self.station_houses[station]), self.ago(0, 30),
                                  "pending")
            subs.append(self.unit_registration(again, "pending"))
        return subs

    def staff_lists(self, uid: int, quiet: bool) -> list[dict]:
        """The unit's staff lists, full lists as staff_import.commit files them: the first hires everyone, each
        later one a few people and the departures of those it leaves out (never the same content as the one
        before: the portal would file nothing). A list every 20-85 days up to now; a quiet unit's stop 91-400 days
        ago. Hires and departures of the last 30 days wait for the police; the older ones were confirmed."""
        rng, imports = self.rng, self.tables["staff_import"].rows
        owner, created = self.tables["unit"].rows[uid - 1][1], self.tables["unit"].rows[uid - 1][14]
        end = self.now - timedelta(days=rng.uniform(91, 400)) if quiet else self.now
        headcount = min(int(3 * rng.paretovariate(1.3)), 300)
        roster: list[int] = []  # employment numbers
        subs: list[dict] = []
        at, first = created + timedelta(days=rng.uniform(1, 20)), True
        while at <= end:
            iid = len(imports) + 1
            status = "pending" if at > self.now - timedelta(days=30) else "confirmed"
            leaving = [e for e in roster if rng.random() < 0.03]
            hires = rng.randint(0, max(1, headcount // 15)) if roster else headcount
            hires = hires or (0 if leaving else 1)
            for e in leaving:
                roster.remove(e)
                subs.append(self.departure(e, at, status, iid))
            for _ in range(hires):
                sub = self.hire(uid, at, status, iid, row=len(roster) + 2, first=first)
                roster.append(sub["hire_of"])
                subs.append(sub)
            invalid = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, 2))  # rows with a damaged ID number
            errors = [{"row": len(roster) + 2 + i, "column": "id_number", "header": "身份证号",
                       "code": "numeric_id_cell", "message": "numeric_id_cell"} for i in range(invalid)]
            digest = hashlib.sha256(f"staff list {uid} {iid}".encode()).hexdigest()
            imports.append((iid, uid, owner, f"员工花名册{at.astimezone(LOCAL):%Y%m%d}.xlsx", digest, True,
                            len(roster) + invalid, len(roster), invalid, hires, len(leaving), len(roster) - hires,
                            errors, at))
            at, first = at + timedelta(days=rng.uniform(20, 85)), False
        return subs

    def hire(self, uid: int, at: datetime, status: str, iid: int, *, row: int, first: bool) -> dict:
        """One hire of a list and its employment, of a person of the register not employed anywhere yet: its
        payload and flags by staff_import.hire_submission."""
        rng, u = self.rng, self.tables["unit"].rows[uid - 1]
        p = next(self.staff_pool)
        _id_type, number, name, sex, birth, phone = self.person_doc[p]
        hire_date = at.astimezone(LOCAL).date() - timedelta(days=rng.randint(0, 2000 if first else 30))
        position = rng.choice(POSITIONS)
        self.emp.append({"unit": uid, "person": p, "position": position, "hire_date": hire_date,
                         "departure_date": None, "status": "verified" if status == "confirmed" else "pending"})
        listed = staff_import.StaffRow(row=row, name=name, sex=sex, id_number=number, phone=phone, position=position,
                                       hire_date=hire_date, birth_date=birth,
                                       region_known=identity.region_known(number[:6]))
        made = staff_import.hire_submission(listed, p, {}, SimpleNamespace(name=u[3]), self.house_text[u[7]], {},
                                            None)
        return {"kind": "hire", "status": status, "house": None, "tenancy": None, "payload": made["payload"],
                "flags": made["flags"], "late": False, "due_at": None, "submitted_at": at, "report": None,
                "unit": uid, "beat": u[8], "reporter": u[1], "staff_import": iid, "hire_of": len(self.emp)}

    def departure(self, e: int, at: datetime, status: str, iid: int) -> dict:
        """Someone a full list left out (staff_import._departure_submission); confirmed, the employment ended."""
        emp = self.emp[e - 1]
        u = self.tables["unit"].rows[emp["unit"] - 1]
        id_type, number, name, *_ = self.person_doc[emp["person"]]
        day = at.astimezone(LOCAL).date()
        if status == "confirmed":
            emp["departure_date"], emp["status"] = day, "ended"
        payload = {"name": name, "id_type": id_type, "id_number": number, "employment_id": e,
                   "position": emp["position"], "hire_date": emp["hire_date"].isoformat(),
                   "departure_date": day.isoformat(), "reason": "not_in_full_list", "unit_name": u[3],
                   "address": self.house_text[u[7]]}
        return {"kind": "departure", "status": status, "house": None, "tenancy": None, "payload": payload,
                "flags": [], "late": False, "due_at": None, "submitted_at": at, "report": None, "unit": u[0],
                "beat": u[8], "reporter": u[1], "staff_import": iid, "employment_id": e}

    def flag_unit_claims(self, subs: list[dict]) -> None:
        """uscc_claimed_by_another: the rivals of a unit are the other employers' units with its credit code standing
        (flags.rival_units)."""
        units = self.tables["unit"].rows
        by_code: dict[str, list] = defaultdict(list)
        for u in units:
            by_code[u[2]].append(u)

        def rivals(uid: int, at: datetime) -> list[int]:
            mine = units[uid - 1]
            return [other[0] for other in by_code[mine[2]] if other[1] != mine[1] and other[14] <= at
                    and other[13] in STANDING]

        flag_claims([s for s in subs if s["kind"] == "unit_registration" and len(by_code[units[s["unit"] - 1][2]]) > 1],
                    "unit_id", rivals)

    def build(self, timer: Timer) -> None:
        with timer("generate: jurisdiction, landlords"):
            self.jurisdiction()
            self.accounts()
        with timer("generate: addresses and houses"):
            self.places()
        with timer("generate: persons"):
            self.people()
        with timer("generate: tenancies"):
            self.occupancy()
        with timer("generate: submissions, decisions"):
            self.submissions()
            self.officer_rows(self.open_by_station, self.open_by_beat)


ORDER = ("bureau", "station", "beat", "user_account", "address", "house", "person", "unit", "staff_import",
         "submission", "tenancy", "employment", "decision")


def batches(rows: list, size: int):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


# --- loaders ----------------------------------------------------------------------------------------

def stored(conn, name: str, t: Table) -> tuple[list[str], list[tuple]]:
    """The table's columns and rows as the application stores them: values of sealed attributes encrypted
    under the database's data key, with a row key per row (fieldcrypt.sealed_columns, as the staff-list
    import writes them)."""
    model = next((m.class_ for m in Base.registry.mappers if m.local_table.name == name), None)
    if model is None or not any(isinstance(v, fieldcrypt.sealed) for v in vars(model).values()):
        return t.columns, t.rows
    rows = [fieldcrypt.sealed_columns(model, conn, dict(zip(t.columns, r, strict=True))) for r in t.rows]
    columns = list(rows[0]) if rows else t.columns
    return columns, [tuple(r[c] for c in columns) for r in rows]


# The triggers that keep the quality summaries (migration 0026) are off for the load: row by row, a few hot
# summary rows updated hundreds of thousands of times in one transaction would cost minutes on PostgreSQL.
# The summaries are then counted in one pass, as the migration's back-fill counts them.
SUMMARY_TRIGGERS_SQLITE = (r"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           r"AND (name LIKE 'quality\_%' ESCAPE '\' OR name LIKE 'place\_name\_%' ESCAPE '\')")
SUMMARY_TRIGGERS_POSTGRESQL = (r"SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal "
                               r"AND (tgname LIKE 'quality\_%' OR tgname LIKE 'place\_name\_%') "
                               r"AND tgrelid::regclass::text = ANY(:t)")


def load_sqlite(url: str, city: City, timer: Timer, batch: int) -> None:
    """Core executemany through the models' column types (the same storage format as the ORM's), with
    journaling and fsync off for the load only; WAL is switched back on at the end."""
    engine = create_engine(url)
    with engine.connect() as conn:
        for pragma in ("foreign_keys=OFF", "journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576",
                       "temp_store=MEMORY"):
            conn.exec_driver_sql(f"PRAGMA {pragma}")
        triggers = conn.exec_driver_sql(SUMMARY_TRIGGERS_SQLITE).all()
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for statement in anomaly_summaries.drop_triggers(conn.dialect):  # a recount per row: put back below
            conn.exec_driver_sql(statement)
        for name in ORDER:
            t = city.tables[name]
            stmt = Base.metadata.tables[name].insert()
            with timer(f"load {name} ({len(t.rows):,} rows)"):
                cols, rows = stored(conn, name, t)
                for chunk in batches(rows, batch):
                    conn.execute(stmt, [dict(zip(cols, r, strict=True)) for r in chunk])
                conn.commit()
        with timer(f"re-create the {len(triggers)} summary triggers and count the summaries (as migration 0026)"):
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)
            quality_summaries.refill(conn)
            place_names.refill(conn)
        with timer("anomaly summaries: the migration's back-fill, then the triggers"):
            for statement in anomaly_summaries.backfill(conn.dialect) + anomaly_summaries.create_triggers(conn.dialect):
                conn.exec_driver_sql(statement)
            conn.commit()
        with timer("check foreign keys (PRAGMA foreign_key_check)"):
            bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if bad:
                raise SystemExit(f"foreign key violations: {bad[:10]}")
        with timer("ANALYZE"):
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        print(f"  journal_mode is {mode} again (portal.db.make_engine sets synchronous=FULL per connection)")
    engine.dispose()


def load_postgresql(url: str, city: City, timer: Timer) -> None:
    """COPY into the tables with their secondary indexes and foreign keys dropped, then re-create them
    (as pg_restore does); re-adding the foreign keys re-checks every reference. One transaction."""
    engine = make_engine(url)
    names = list(ORDER)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        fks = conn.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:t)"), {"t": names}).all()
        indexes = conn.execute(text(
            "SELECT c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(:t) "
            "AND c.relnamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"),
            {"t": names}).all()
        triggers = conn.execute(text(SUMMARY_TRIGGERS_POSTGRESQL), {"t": names}).all()
        with timer(f"drop {len(fks)} foreign keys and {len(indexes)} secondary indexes for the load, disable "
                   f"{len(triggers)} summary triggers"):
            for table, name, _ in fks:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for _table, name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            for table, name in triggers:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER "{name}"')
            for name, _event, table, _when, _recounts in anomaly_summaries.TRIGGERS:  # a recount per row
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER {name}')
        raw = conn.connection.driver_connection
        for name in ORDER:
            t = city.tables[name]
            with timer(f"seal and COPY {name} ({len(t.rows):,} rows)"):
                columns, rows = stored(conn, name, t)
                json_cols = [i for i, c in enumerate(columns)
                             if Base.metadata.tables[name].c[c].type.__class__.__name__ == "JSON"]
                sql = f'COPY "{name}" ({", ".join(columns)}) FROM STDIN'
                with raw.cursor() as cur, cur.copy(sql) as copy:
                    for row in rows:
                        if json_cols:
                            row = list(row)
                            for i in json_cols:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
        with timer("re-create secondary indexes"):
            for _table, _name, ddl in indexes:
                conn.exec_driver_sql(ddl)
        with timer("re-add foreign keys (checks every reference)"):
            for table, name, ddl in fks:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {ddl}')
        with timer("enable the summary triggers and count the summaries (as migration 0026)"):
            for table, name in triggers:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER "{name}"')
            quality_summaries.refill(conn)
            place_names.refill(conn)
        with timer("anomaly summaries: the migration's back-fill, then the triggers back on"):
            # Statistics first: without them the recounts' correlated subqueries are planned as scans.
            conn.exec_driver_sql("ANALYZE house, person, address, tenancy, submission")
            for statement in anomaly_summaries.backfill(conn.dialect):
                conn.exec_driver_sql(statement)
            for name, _event, table, _when, _recounts in anomaly_summaries.TRIGGERS:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER {name}')
        for name in ORDER:  # the ids were given explicitly: move each sequence past them
            top = conn.scalar(select(func.coalesce(func.max(Base.metadata.tables[name].c.id), 1)))
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"), {"t": name, "v": top})
        with timer("commit"):
            conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, \
            timer("VACUUM (ANALYZE) of the loaded tables (what autovacuum would do after a bulk load)"):
        for name in ORDER:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="sqlite:///path or postgresql:///dbname (an empty database)")
    p.add_argument("--persons", type=int, default=1_000_000)
    p.add_argument("--houses", type=int, default=600_000)
    p.add_argument("--pending", type=int, default=100_000,
                   help="open move-ins, move-outs and house registrations (the claims and staff lists add a few more)")
    p.add_argument("--landlords", type=int, default=5_000)
    p.add_argument("--stations", type=int, default=10)
    p.add_argument("--beats-per-station", type=int, default=4)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--batch", type=int, default=20_000, help="rows per executemany on SQLite")
    args = p.parse_args(argv)
    url = normalise_url(args.url)
    for region in REGIONS:
        assert identity.region_known(region), region

    timer = Timer()
    print(f"database: {bench_common.describe_url(url)}")
    engine = make_engine(url)
    existing = inspect(engine).get_table_names()
    if existing:
        raise SystemExit(f"the database is not empty ({len(existing)} tables): give a new one")
    with timer("schema: portal.migrate.upgrade (alembic head)"):
        migrate.upgrade(engine)
    engine.dispose()

    city = City(args)
    city.build(timer)
    if url.startswith("sqlite"):
        load_sqlite(url, city, timer, args.batch)
    else:
        load_postgresql(url, city, timer)

    counts = {n: len(city.tables[n].rows) for n in ORDER}
    print("\nrows: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    print(f"open submissions: {sum(city.open_by_station.values()):,}; busiest station {city.top_station} has "
          f"{city.open_by_station[city.top_station]:,}, its busiest beat {city.top_beat} has "
          f"{city.open_by_beat[city.top_beat]:,}")
    print(f"station officer {bench_common.STATION_OFFICER_PHONE}, beat officer "
          f"{bench_common.BEAT_OFFICER_PHONE}, password {bench_common.PASSWORD!r}, "
          "TOTP key bench_common.totp_secret(phone)")
    print(f"total: {timer.total():.1f} s")
    bench_common.OUT.mkdir(parents=True, exist_ok=True)
    summary = {"url": bench_common.describe_url(url), "args": vars(args), "rows": counts,
               "open_by_station": dict(city.open_by_station), "top_station": city.top_station,
               "top_station_open": city.open_by_station[city.top_station], "top_beat": city.top_beat,
               "top_beat_open": city.open_by_beat[city.top_beat],
               "phases": timer.phases, "total_seconds": timer.total()}
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    (bench_common.OUT / f"generate-{kind}.json").write_text(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
