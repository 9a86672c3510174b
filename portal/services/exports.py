"""Officers' exports: the list they are looking at (a queue filter, an anomaly list, a building of the register)
as XLSX (XlsxWriter) or CSV.

Each export holds what the list holds in the officer's jurisdiction (the same service calls as the page, so
the same scoping), at most MAX_ROWS rows. Names, ID numbers and phones are masked as on the page unless the
officer asks for the full export, which needs a reason from EXPORT_REASONS. Every export is audited (action
"export", or "export.full" with the reason). Every cell is text, neutralised against formulas
(spreadsheets.neutralise) and written as a string, never a formula. New code of the unit of work: nothing here
commits; the view does.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import House, Submission, Unit, User
from portal.models.address import TEXT_COLUMNS, Address, address_text
from portal.services import anomalies, audit, flags, queue, record_access, register, review, spreadsheets
from portal.services.effects import LOCAL
from portal.services.errors import FieldError, ValidationFailed
from portal.services.identity import mask_id, mask_name, mask_phone

MAX_ROWS = 50_000
BATCH = 1000
LISTS = ("queue", "anomaly", "building")
FORMATS = ("xlsx", "csv")
EXPORT_REASONS = {
    "case": _l("A case or an incident"),
    "site_visit": _l("Site visits in my jurisdiction"),
    "correction": _l("Correcting the register"),
    "report": _l("A report asked for by the bureau"),
}


@dataclass(frozen=True)
class Source:
    """Which list: its kind and the filter of the page it was on (never a beat outside the jurisdiction:
    the queue's own scoping drops those)."""

    list: str
    queue_filters: queue.Filters = field(default_factory=queue.Filters)
    anomaly: str = ""
    address_id: int = 0

    @property
    def has_personal_numbers(self) -> bool:
        """Whether a full export shows more than the masked one (an anomaly list holds no numbers)."""
        return self.list != "anomaly"


def _int(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def source_from(values) -> Source:
    """The list a page's export link or form names (request values); KeyError for no such list. A filter
    value that makes no sense is dropped, as the queue page drops it."""
    kind = values.get("list") or "queue"  # no list named: the whole queue
    if kind == "queue":
        sub_kind = values.get("kind") if values.get("kind") in review.KIND_LABELS else None
        return Source("queue", queue.Filters(kind=sub_kind, beat_id=_int(values.get("beat")),
                                             flagged_only=values.get("flagged") in ("y", "1", "on"),
                                             late_only=values.get("late") in ("y", "1", "on"),
                                             staff_import_id=_int(values.get("upload"))))
    if kind == "anomaly" and values.get("kind") in anomalies.KINDS:
        return Source("anomaly", anomaly=values["kind"])
    if kind == "building" and _int(values.get("address")):
        return Source("building", address_id=_int(values.get("address")))
    raise KeyError(kind)


def in_scope(session: Session, officer: User, source: Source) -> Source:
    """The source, when the officer may see its list (NotFound for a building outside the jurisdiction)."""
    if source.list == "building":
        register.address(session, officer, source.address_id)
    return source


def source_args(source: Source) -> dict:
    """The request values that name this list again (the export form's hidden fields)."""
    if source.list == "queue":
        f = source.queue_filters
        args = {"kind": f.kind, "beat": f.beat_id, "flagged": "y" if f.flagged_only else None,
                "late": "y" if f.late_only else None, "upload": f.staff_import_id}
        return {"list": "queue", **{k: v for k, v in args.items() if v}}
    if source.list == "anomaly":
        return {"list": "anomaly", "kind": source.anomaly}
    return {"list": "building", "address": source.address_id}


@dataclass
class Table:
    headers: list
    rows: Iterator[list]
    counted: int = 0
    truncated: bool = False
    # The (document type, number) of the people a full export showed, for their own view (record_access.py).
    documents: list = field(default_factory=list)


def _when(value) -> str:
    return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if value else ""


def _limited(table_rows: Iterator[list], table: Table) -> Iterator[list]:
    for row in table_rows:
        if table.counted >= MAX_ROWS:
            table.truncated = True
            return
        table.counted += 1
        yield row


# --- the queue -----------------------------------------------------------------------------------

QUEUE_HEADERS = [_l("Receipt"), _l("Submitted"), _l("Kind"), _l("Status"), _l("Address"), _l("Names"),
                 _l("ID numbers"), _l("Phones"), _l("Flags")]


def _phones(payload: dict) -> list[str]:
    if payload.get("occupants"):
        return [o.get("phone") or "" for o in payload["occupants"]]
    if payload.get("contact_phone"):
        return [payload["contact_phone"]]
    return [payload.get("phone") or ""] if payload.get("id_number") else []


_QUEUE_COLUMNS = [Submission.receipt, Submission.kind, Submission.status, Submission.house_id, Submission.unit_id,
                  Submission.flags, Submission.row_key, Submission.payload_sealed]


def _queue_rows(session: Session, officer: User, filters: queue.Filters, full: bool,
                documents: list) -> Iterator[list]:
    """The queue's items as rows, read as columns (queue.queue_columns) and each payload opened once: no
    Submission objects for 50,000 items (bench/README.md: the bureau's export)."""
    words = {}

    def said(label, code) -> str:
        """The label of a code in the reader's language, rendered once per export (not once per row)."""
        key = (label, str(code))
        if key not in words:
            words[key] = str(label(code))
        return words[key]

    text_columns = [getattr(Address, c) for c in TEXT_COLUMNS]
    for rows in queue.queue_columns(session, officer, filters, _QUEUE_COLUMNS, batch=BATCH):
        house_ids = {r.house_id for r in rows if r.house_id}
        unit_ids = {r.unit_id for r in rows if r.unit_id}
        places = {("h", r.id): address_text(r) for r in session.execute(
            select(House.id, *text_columns).join(Address, Address.id == House.address_id)
            .where(House.id.in_(house_ids)))} if house_ids else {}
        places.update({("u", r.id): address_text(r) for r in session.execute(
            select(Unit.id, *text_columns).join(Address, Address.id == Unit.address_id)
            .where(Unit.id.in_(unit_ids)))} if unit_ids else {})
        connection = session.connection()
        for r in rows:
            payload = Submission.payload.open_stored(connection, r.row_key, r.payload_sealed) or {}
            place = places.get(("h", r.house_id)) or places.get(("u", r.unit_id))
            names = queue.names_in(payload)
            people = queue.people_in(payload)
            numbers = [n for _t, n in people]
            phones = [p for p in _phones(payload) if p]
            yield [r.receipt, _when(r.submitted_at), said(review.kind_label, r.kind),
                   said(review.status_label, r.status),
                   place or payload.get("address") or "",
                   "、".join(names if full else [mask_name(n) for n in names]),
                   "、".join(numbers if full else [mask_id(n) for n in numbers]),
                   "、".join(phones if full else [mask_phone(p) for p in phones]),
                   "、".join(said(flags.label, f.get("code")) for f in r.flags or [] if not f.get("resolved"))]
            if full:  # after the yield: only a row that was taken (not the one past MAX_ROWS)
                documents.extend(people)


# --- an anomaly list -------------------------------------------------------------------------------

ANOMALY_HEADERS = [_l("Name"), _l("Address"), _l("Reporter"), _l("Living there"), _l("Capacity"),
                   _l("Lease ended"), _l("Last report"), _l("Status")]


def _anomaly_rows(session: Session, officer: User, kind: str) -> Iterator[list]:
    cursor = None
    while True:
        page = anomalies.page(session, officer, kind, cursor, size=BATCH)
        for r in page.rows:
            inside = [p for p in r.places if p.in_scope]
            yield [r.name, "；".join(p.address for p in inside), "；".join(p.owner for p in inside if p.owner),
                   "" if r.number is None else str(r.number), "" if r.limit is None else str(r.limit),
                   r.on.isoformat() if r.on else "", _when(r.at), "；".join(p.status for p in inside if p.status)]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- a building of the register --------------------------------------------------------------------

BUILDING_HEADERS = [_l("Address"), _l("Address code"), _l("Use"), _l("Owner"), _l("Owner's phone"), _l("Status"),
                    _l("Living there"), _l("Capacity")]


def _building_rows(session: Session, officer: User, address_id: int, full: bool, names: dict) -> Iterator[list]:
    uses, statuses = names.get("use", {}), names.get("status", {})
    anchor = register.address(session, officer, address_id)
    cursor = None
    while True:
        page = register.rooms(session, officer, anchor, cursor, size=BATCH)
        for r in page.rows:
            if not r.houses:
                yield [r.address.text, r.address.code, "", "", "", "", "", ""]
            for h in r.houses:
                yield [r.address.text, r.address.code, str(uses.get(h.use, h.use)), h.owner_name if full else h.owner,
                       h.owner_phone if full else mask_phone(h.owner_phone), str(statuses.get(h.status, h.status)),
                       str(h.living),
                       str(h.capacity)]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- building, writing, auditing ---------------------------------------------------------------------

def table(session: Session, officer: User, source: Source, *, full: bool, names: dict | None = None) -> Table:
    """The rows of the list (NotFound for a building outside the jurisdiction, KeyError for an unknown list).
    `names`: the words for codes ({"use": ..., "status": ...}), as the pages show them."""
    if source.list == "queue":
        out = Table(QUEUE_HEADERS, iter(()))
        out.rows = _limited(_queue_rows(session, officer, source.queue_filters, full, out.documents), out)
    elif source.list == "anomaly":
        if source.anomaly not in anomalies.KINDS:
            raise KeyError(source.anomaly)
        out = Table(ANOMALY_HEADERS, iter(()))
        out.rows = _limited(_anomaly_rows(session, officer, source.anomaly), out)
    elif source.list == "building":
        register.address(session, officer, source.address_id)  # NotFound before any file is begun
        out = Table(BUILDING_HEADERS, iter(()))
        out.rows = _limited(_building_rows(session, officer, source.address_id, full, names or {}), out)
    else:
        raise KeyError(source.list)
    return out


def check_request(fmt: str, full: bool, reason: str | None) -> None:
    errors = []
    if fmt not in FORMATS:
        errors.append(FieldError("format", _l("Choose XLSX or CSV."), "format"))
    if full and reason not in EXPORT_REASONS:
        errors.append(FieldError("reason", _l("Choose why you need the full export."), "reason"))
    if errors:
        raise ValidationFailed(errors)


def write(t: Table, fmt: str) -> bytes:
    header = [str(h) for h in t.headers]
    if fmt == "csv":
        return spreadsheets.write_csv([header, *t.rows])
    return _xlsx(header, t.rows)


def _xlsx(header: list[str], rows: Iterator[list]) -> bytes:
    """One sheet, every cell a string (neutralised), rows streamed to disk (constant_memory), file removed."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_numbers": False, "strings_to_urls": False})
        sheet = book.add_worksheet()
        bold = book.add_format({"bold": True})
        for col, title in enumerate(header):
            sheet.write_string(0, col, spreadsheets.neutralise(title), bold)
            sheet.set_column(col, col, 20)
        for n, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                sheet.write_string(n, col, spreadsheets.neutralise(value))
        book.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def record(session: Session, officer: User, actor: audit.Actor, source: Source, t: Table, fmt: str, *,
           full: bool, reason: str | None, investigation: bool = False) -> None:
    """The export's audit row: which list, how many rows, masked or full and why; a full export is written in
    the own view of every person whose numbers it showed (record_access.py; with a request for a hold when part
    of an investigation)."""
    what = source.list + (f":{source.anomaly}" if source.anomaly else "") + (
        f":{source.address_id}" if source.address_id else "")
    detail = f"list={what} format={fmt} rows={t.counted}" + (" truncated" if t.truncated else "")
    if full:
        detail += f" reason={reason}"
    event = audit.record(session, "export.full" if full else "export", actor, user=officer, object_type="export",
                         detail=detail)
    if full and t.documents:
        record_access.note(session, record_access.person_ids_of_documents(session, t.documents), kind="export",
                           event=event, officer=officer, reason=reason, investigation=investigation, actor=actor)
