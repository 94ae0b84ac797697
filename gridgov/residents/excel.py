"""Excel in and out: the import template, the import job (validate every row, then write all or
the valid households in one transaction), its error report, and the masked export.

Reading uses python-calamine (fast; numbers come back as floats, so ID numbers and phones are
turned back into text and refused when Excel already lost digits) in a bounded child process after a
bounds check of the workbook's metadata (core.untrusted); writing uses openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope, scope_for
from gridgov.audit.services import audit_record
from gridgov.core import bulk, cleaning, sheets, untrusted
from gridgov.core.clock import local
from gridgov.core.errors import CommonError, NotFound, ValidationFailed
from gridgov.units import locate
from gridgov.units.models import Unit

from . import idnumber, phones, protected
from .cleaners import CleanResident, clean_location, clean_resident, duplicate_message
from .errors import ResidentError
from .models import (
    Household,
    HouseholdEvent,
    ImportJob,
    Relation,
    Resident,
    ResidentStatus,
    Tag,
    TagAssignment,
    TagTarget,
)

MAX_ROWS = 300_000
MAX_BYTES = 60 * 1024 * 1024
PROGRESS_EVERY = 2000

# (header, field, required, example): the cadres' columns, in template order.
COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("户编号", "household_key", True, "1"),
    ("网格", "grid", False, "吴城村第一网格"),
    ("地址", "address", True, "吴城村一组"),
    ("门牌号", "house_number", False, "12"),
    ("户联系电话", "household_phone", False, ""),
    ("经度", "lng", False, ""),
    ("纬度", "lat", False, ""),
    ("与户主关系", "relation", True, "户主"),
    ("姓名", "name", True, "王伟"),
    ("身份证号", "id_number", True, "140225197504120318"),
    ("性别", "gender", False, "男"),
    ("出生日期", "birth_date", False, "1975-04-12"),
    ("联系电话", "phone", False, "13812345678"),
    ("民族", "ethnicity", False, "汉族"),
    ("政治面貌", "political_status", False, "群众"),
    ("人口类型", "residency", False, "户籍人口"),
    ("外出地点", "away_place", False, ""),
    ("外出时间", "away_since", False, ""),
    ("文化程度", "education", False, "初中"),
    ("职业", "occupation", False, "农民"),
    ("健康状况", "health", False, "健康"),
    ("残疾类别/等级", "disability", False, ""),
    ("重点人群", "tags", False, ""),
    ("备注", "notes", False, ""),
)
HEADER_OF = {f: h for h, f, _, _ in COLUMNS}
_ALIASES = {
    "户号": "household_key", "户序号": "household_key", "所属网格": "grid", "网格名称": "grid", "网格编号": "grid",
    "家庭住址": "address", "住址": "address", "居住地址": "address", "身份证号码": "id_number",
    "公民身份号码": "id_number", "身份证": "id_number", "手机号": "phone", "手机号码": "phone", "电话": "phone",
    "联系方式": "phone", "关系": "relation", "与户主的关系": "relation", "重点人群类别": "tags", "标签": "tags",
    "残疾类别": "disability", "出生年月": "birth_date", "户电话": "household_phone",
}
_HEADER_FIELDS = {h: f for h, f, _, _ in COLUMNS} | _ALIASES
_TAG_SPLIT = re.compile(r"[、,，;；/\s]+")


# --- template -------------------------------------------------------------------------------------------
def template_bytes() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "户情台账"
    ws.append([h for h, _, _, _ in COLUMNS])
    ws.append([ex for _, _, _, ex in COLUMNS])
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FDE2E1")
    for i, (_, fld, required, _) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        if required:
            cell.fill = required_fill
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = 22 if fld in ("id_number", "address", "tags") else 13
        if fld in ("id_number", "phone", "household_phone", "household_key", "house_number"):
            # Text format, so Excel keeps all 18 digits and leading zeros.
            for row in range(2, 2001):
                ws.cell(row=row, column=i).number_format = "@"
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["说明"])
    for line in (
        "每行一个人；同一户的人填相同的「户编号」，户主一行填写地址、网格等户信息。",
        "红色表头为必填。身份证号、电话请保持为文本格式，不要改成数字。",
        "网格可填名称或编号；也可以不填网格而填经纬度，系统按位置自动归入网格。",
        "与户主关系：户主、配偶、子女、儿媳/女婿、父母、岳父母/公婆、孙子女/外孙子女、祖父母/外祖父母、兄弟姐妹、其他。",
        "重点人群可填多个，用顿号分隔，如：留守老人、残疾人。",
        "请删除第 2 行示例后再导入。",
    ):
        help_ws.append([line])
    help_ws.column_dimensions["A"].width = 100
    return sheets.workbook_bytes(wb)


# --- reading ---------------------------------------------------------------------------------------------
def check_content(content: bytes) -> None:
    """Refuse anything that is not an .xlsx by what it contains, not by its name. Cheap (the zip's
    central directory only, nothing inflated): it runs in the request; the bounds check and the parse
    run later in a bounded child process (core.untrusted.read_xlsx)."""
    if not content:
        raise ValidationFailed("请选择要导入的 Excel 文件。", field="file", reason=CommonError.REQUIRED)
    if len(content) > MAX_BYTES:
        raise ValidationFailed(f"文件太大（超过 {MAX_BYTES // 1024 // 1024} MB），请分批导入。", field="file",
                               reason=ResidentError.FILE_TOO_LARGE)
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValidationFailed("这是旧版 .xls 文件，请在 Excel 中「另存为」.xlsx 后再导入。", field="file",
                               reason=ResidentError.OLD_EXCEL_FORMAT)
    if content[:4] != b"PK\x03\x04":
        raise ValidationFailed("文件不是有效的 Excel（.xlsx）文件，请用模板填写后导入。", field="file",
                              reason=ResidentError.NOT_AN_EXCEL_FILE)
    limits = untrusted.xlsx_worker.LIMITS
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed("文件已损坏或不是 Excel 文件。", field="file",
                              reason=ResidentError.NOT_AN_EXCEL_FILE) from exc
    if len(infos) > limits["max_entries"]:
        raise ValidationFailed(untrusted.refusal_message("entries"), field="file")
    if sum(i.file_size for i in infos) > limits["max_uncompressed"]:
        raise ValidationFailed(untrusted.refusal_message("uncompressed"), field="file")
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise ValidationFailed("文件不是有效的 Excel（.xlsx）文件，请用模板填写后导入。", field="file",
                              reason=ResidentError.NOT_AN_EXCEL_FILE)


@dataclass
class Sheet:
    name: str
    header_row: int  # 1-based row number of the header in the sheet
    columns: dict[str, int]  # field → column index
    rows: list[list[Any]]


def read_sheet(content: bytes) -> Sheet:
    check_content(content)
    sheets = untrusted.read_xlsx(content, limits={"max_rows": MAX_ROWS + 10})
    for sheet in sheets:
        rows = sheet.rows
        for i, row in enumerate(rows[:10]):
            columns: dict[str, int] = {}
            for j, cell in enumerate(row):
                key = re.sub(r"\s+", "", str(cell or "")).replace("*", "")
                fld = _HEADER_FIELDS.get(key)
                if fld and fld not in columns:
                    columns[fld] = j
            if "name" in columns and "id_number" in columns:
                missing = [HEADER_OF[f] for h, f, req, _ in COLUMNS if req and f not in columns]
                if missing:
                    raise ValidationFailed(f"工作表「{sheet.name}」缺少必填列：{'、'.join(missing)}。", field="file")
                merged = [m for m in sheet.merged if m[0][0] >= i]
                if merged:
                    raise ValidationFailed(
                        f"工作表「{sheet.name}」第 {merged[0][0][0] + 1} 行有合并单元格，"
                        "请取消合并并把内容填到每一行。",
                        field="file", reason=ResidentError.SHEET_MERGED_CELLS)
                data = rows[i + 1:]
                if len(data) > MAX_ROWS:
                    raise ValidationFailed(f"一次最多导入 {MAX_ROWS:,} 行，请分批导入。", field="file")
                return Sheet(name=sheet.name, header_row=sheet.start[0] + i + 1 if sheet.start else i + 1,
                             columns=columns, rows=data)
    raise ValidationFailed(
        f"没有找到包含「姓名」「身份证号」表头的工作表（文件中的工作表：{'、'.join(s.name for s in sheets)}）。"
        "请使用导入模板。", field="file")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def masked_value(fld: str, value: Any) -> str:
    """What the error report may show of a cell: ID numbers and phones masked, long text cut."""
    text = _cell_text(value) if not isinstance(value, float) or value < 1e15 else f"{value:E}"
    if fld == "id_number":
        text = idnumber.normalize(value) if text else ""
        return idnumber.mask(text) if len(text) >= 8 and "E" not in text else text[:4] + "…" if len(text) > 4 else text
    if fld in ("phone", "household_phone"):
        digits = re.sub(r"\D", "", text)
        return (digits[:3] + "****" + digits[-4:]) if len(digits) >= 8 else "*" * len(digits)
    return text[:40]


# --- validating -------------------------------------------------------------------------------------------
@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class PlannedResident:
    row: int
    clean: CleanResident
    sealed_index: str
    tags: list[Tag]


@dataclass
class PlannedHousehold:
    key: str
    first_row: int
    unit: Unit | None = None
    address: str = ""
    house_number: str = ""
    phone: str = ""
    lat: float | None = None
    lng: float | None = None
    tags: list[Tag] = field(default_factory=list)
    residents: list[PlannedResident] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)


class _Grids:
    """Resolves the 网格 column (name or serial) and coordinates to a deepest unit under the root."""

    def __init__(self, root: Unit) -> None:
        units = list(Unit.dangerously_unscoped.filter(path__startswith=root.path,
                                                      is_active=True).exclude(children__is_active=True))
        self.root = root
        self.by_id = {u.pk: u for u in units}
        self.by_key: dict[str, list[Unit]] = defaultdict(list)
        for u in units:
            self.by_key[u.name].append(u)
            if u.serial:
                self.by_key[u.serial].append(u)

    def find(self, text: str) -> Unit:
        found = {u.pk: u for u in self.by_key.get(text, [])}
        if not found:
            raise ValidationFailed(f"在「{self.root.name}」下找不到网格「{text}」（可填名称或编号）。", field="grid",
                                   reason=ResidentError.GRID_NOT_FOUND)
        if len(found) > 1:
            raise ValidationFailed(f"「{text}」对应多个网格，请填写网格编号。", field="grid",
                                   reason=ResidentError.GRID_AMBIGUOUS)
        return next(iter(found.values()))

    def at(self, lat: float, lng: float) -> Unit:
        unit_id = locate.unit_id_at(lat, lng)
        if unit_id is None or unit_id not in self.by_id:
            raise ValidationFailed(f"该位置不在「{self.root.name}」的任何网格内。", field="lat",
                                   reason=ResidentError.OUTSIDE_EVERY_GRID)
        return self.by_id[unit_id]


@dataclass
class Plan:
    households: list[PlannedHousehold]
    errors: list[RowError]
    total_rows: int


def plan_import(sheet: Sheet, *, root: Unit, actor: User | None, today: dt.date,
                progress: Any = None) -> Plan:
    """Validate every row; nothing is written."""
    grids = _Grids(root)
    tags_by_name = {t.name: t for t in Tag.objects.filter(is_active=True)}
    may_sensitive = actor is None or scope_for(actor).can(P.SENSITIVE_TAGS, root.path)
    errors: list[RowError] = []
    households: dict[str, PlannedHousehold] = {}
    seen_ids: dict[str, int] = {}
    cols = sheet.columns
    total = 0

    col_items = list(cols.items())

    def cell(vals: dict[str, Any], fld: str) -> Any:
        return vals.get(fld)

    def err(row_no: int, fld: str, value: Any, reason: str) -> None:
        errors.append(RowError(row_no, HEADER_OF.get(fld, fld), masked_value(fld, value), reason))

    for offset, row in enumerate(sheet.rows):
        row_no = sheet.header_row + 1 + offset
        if progress and offset % PROGRESS_EVERY == 0:
            progress(offset)
        if all(_cell_text(v) == "" for v in row):
            continue  # blank rows are tolerated
        total += 1
        width = len(row)
        vals = {f: row[j] for f, j in col_items if j < width}
        key = _cell_text(cell(vals, "household_key")) or (
            f"{_cell_text(cell(vals, 'address'))}|{_cell_text(cell(vals, 'house_number'))}")
        hh = households.get(key)
        if hh is None:
            hh = households[key] = PlannedHousehold(key=key, first_row=row_no)
        # household-level columns: taken from the first row that fills them
        try:
            if not hh.address and _cell_text(cell(vals, "address")):
                hh.address = cleaning.text(cell(vals, "address"), field="address", label="地址", max_length=200)
            if not hh.house_number:
                hh.house_number = cleaning.text(_cell_text(cell(vals, "house_number")), field="house_number",
                                                      label="门牌号", max_length=40)
            if not hh.phone and _cell_text(cell(vals, "household_phone")):
                hh.phone = phones.normalize(cell(vals, "household_phone"))
            if hh.unit is None:
                lat, lng = clean_location(cell(vals, "lat"), cell(vals, "lng"))
                if lat is not None and lng is not None:
                    hh.unit, hh.lat, hh.lng = grids.at(lat, lng), lat, lng
                elif _cell_text(cell(vals, "grid")):
                    hh.unit = grids.find(_cell_text(cell(vals, "grid")))
        except ValidationFailed as exc:
            fld = {"location": "lat", "phone": "household_phone"}.get(exc.field or "", exc.field or "address")
            err(row_no, fld, cell(vals, fld), exc.message)
            hh.bad_rows.add(row_no)
            continue
        data = {f: cell(vals, f) for f in ("name", "id_number", "relation", "phone", "birth_date", "gender",
                                          "ethnicity", "political_status", "residency", "away_place", "away_since",
                                          "education", "occupation", "health", "disability", "notes")}
        for f in ("birth_date", "away_since"):
            if isinstance(data[f], float):
                data[f] = None  # a serial number Excel failed to show as a date: checked against the ID anyway
        try:
            clean = clean_resident(data, today=today)
        except ValidationFailed as exc:
            err(row_no, exc.field or "name", data.get(exc.field or "name"), exc.message)
            hh.bad_rows.add(row_no)
            continue
        index = protected.id_index(clean.id_info.number)
        if index in seen_ids:
            err(row_no, "id_number", cell(vals, "id_number"), f"与第 {seen_ids[index]} 行的身份证号重复。")
            hh.bad_rows.add(row_no)
            continue
        seen_ids[index] = row_no
        row_tags: list[Tag] = []
        tag_text = _cell_text(cell(vals, "tags"))
        bad_tag = False
        for name in filter(None, _TAG_SPLIT.split(tag_text)):
            tag = tags_by_name.get(name)
            if tag is None:
                err(row_no, "tags", name, f"没有「{name}」这个重点人群标签。")
                bad_tag = True
            elif tag.is_sensitive and not may_sensitive:
                err(row_no, "tags", name, f"您没有登记「{name}」标签的权限。")
                bad_tag = True
            elif tag.applies_to == TagTarget.HOUSEHOLD:
                if tag not in hh.tags:
                    hh.tags.append(tag)
            else:
                row_tags.append(tag)
        if bad_tag:
            hh.bad_rows.add(row_no)
            continue
        hh.residents.append(PlannedResident(row=row_no, clean=clean, sealed_index=index, tags=row_tags))

    _check_households(households.values(), errors)
    _check_against_ledger(households.values(), errors, actor)
    if progress:
        progress(len(sheet.rows))
    errors.sort(key=lambda e: e.row)
    return Plan(households=list(households.values()), errors=errors, total_rows=total)


def _check_households(households: Iterable[PlannedHousehold], errors: list[RowError]) -> None:
    for hh in households:
        if hh.bad_rows and not hh.residents:
            continue
        heads = [r for r in hh.residents if r.clean.fields["relation"] == Relation.HEAD]
        if not hh.address:
            errors.append(RowError(hh.first_row, "地址", "", "该户没有填写地址。"))
            hh.bad_rows.add(hh.first_row)
        if hh.unit is None:
            errors.append(RowError(hh.first_row, "网格", "", "该户没有填写网格，也没有经纬度。"))
            hh.bad_rows.add(hh.first_row)
        if not heads and not hh.bad_rows:
            errors.append(RowError(hh.first_row, "与户主关系", "", f"户编号「{hh.key}」没有户主。"))
            hh.bad_rows.add(hh.first_row)
        for extra in heads[1:]:
            errors.append(RowError(extra.row, "与户主关系", "户主", f"户编号「{hh.key}」有不止一位户主。"))
            hh.bad_rows.add(extra.row)


def _check_against_ledger(households: Iterable[PlannedHousehold], errors: list[RowError], actor: User | None) -> None:
    by_index = {r.sealed_index: (hh, r) for hh in households for r in hh.residents}
    keys = list(by_index)
    actor_scope = scope_for(actor) if actor is not None else None
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        for existing in Resident.dangerously_unscoped.filter(id_index__in=chunk,
                                                             status=ResidentStatus.ACTIVE).select_related(
            "household__unit"
        ):
            hh, r = by_index[existing.id_index]
            errors.append(RowError(r.row, "身份证号", idnumber.mask(r.clean.id_info.number),
                                   duplicate_message(existing, actor_scope)))
            hh.bad_rows.add(r.row)


# --- writing ---------------------------------------------------------------------------------------------
@dataclass
class Written:
    households: int
    residents: int


def write_plan(plan: Plan, *, actor: User | None, now: dt.datetime, root: Unit, valid_only: bool) -> Written:
    """Write the planned households in one transaction (all of them, or the fully valid ones).

    Rows are inserted as plain values (`core.bulk.insert_rows`: COPY on PostgreSQL), households
    first, then their members, tags and history, so nothing is half written if any insert fails."""
    chosen = [hh for hh in plan.households if not hh.bad_rows and hh.residents]
    if plan.errors and not valid_only:
        return Written(0, 0)
    today = local(now).date()
    actor_id = actor.pk if actor is not None else None
    with transaction.atomic():
        household_rows = []
        for hh in chosen:
            assert hh.unit is not None
            sealed = protected.seal_phone(hh.phone)
            household_rows.append({
                "unit_id": hh.unit.pk, "address": hh.address, "house_number": hh.house_number, "lat": hh.lat,
                "lng": hh.lng, "phone_cipher": sealed.cipher, "phone_index": sealed.index,
                "phone_masked": sealed.masked, "created_at": now, "updated_at": now})
        household_ids = bulk.insert_rows(Household, household_rows)
        resident_rows: list[dict[str, Any]] = []
        resident_tags: list[list[Tag]] = []
        tag_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for hh, household_id in zip(chosen, household_ids, strict=True):
            tag_rows.extend({"tag_id": t.pk, "household_id": household_id, "start_date": today, "set_by_id": actor_id,
                             "set_at": now, "note": "导入"} for t in hh.tags)
            for r in hh.residents:
                c = r.clean
                sid = protected.seal_id(c.id_info.number, index=r.sealed_index)
                sph = protected.seal_phone(c.phone)
                resident_rows.append({
                    "household_id": household_id, "name": c.name, "gender": c.id_info.gender,
                    "birth_date": c.id_info.birth_date, "id_cipher": sid.cipher, "id_index": sid.index,
                    "id_masked": sid.masked, "phone_cipher": sph.cipher, "phone_index": sph.index,
                    "phone_masked": sph.masked, "created_at": now, "updated_at": now, **c.fields})
                resident_tags.append(r.tags)
            event_rows.append({"household_id": household_id, "action": HouseholdEvent.Action.IMPORTED.value, "at": now,
                               "actor_id": actor_id, "changes": {"members": len(hh.residents)}})
        resident_ids = bulk.insert_rows(Resident, resident_rows)
        tag_rows.extend({"tag_id": t.pk, "resident_id": resident_id, "start_date": today, "set_by_id": actor_id,
                         "set_at": now, "note": "导入"}
                        for resident_id, tags in zip(resident_ids, resident_tags, strict=True) for t in tags)
        bulk.insert_rows(TagAssignment, tag_rows)
        bulk.insert_rows(HouseholdEvent, event_rows)
        audit_record(action="household.import", actor=actor, now=now, unit_path=root.path,
                     role=scope_for(actor).role_at(root.path) if actor else "system",
                     detail={"households": len(household_ids), "residents": len(resident_ids),
                             "skipped_rows": len({e.row for e in plan.errors})})
    return Written(len(household_ids), len(resident_ids))


# --- the job -----------------------------------------------------------------------------------------------
def import_submit(*, actor: User, now: dt.datetime, unit_id: int, filename: str, content: bytes,
                  mode: str = ImportJob.Mode.ALL_OR_NOTHING) -> ImportJob:
    """Check the file is an .xlsx, record the job and queue it (run at once when jobs are eager)."""
    scope = scope_for(actor)
    root = get_in_scope(Unit, scope, pk=unit_id)
    scope.require(P.HOUSEHOLD_IMPORT, root.path)
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed("请选择导入方式。", field="mode", reason=CommonError.REQUIRED)
    check_content(content)
    job = ImportJob.dangerously_unscoped.create(unit=root, created_by=actor, created_at=now,
                                                filename=(filename or "")[:200],
                                    content=content, mode=mode)
    from .tasks import import_run  # late: the task module imports this one

    import_run.delay(job.pk)
    return job


def import_job_get(*, scope: Scope, job_id: int) -> ImportJob:
    job: ImportJob = get_in_scope(ImportJob, scope, pk=job_id)
    if job.created_by_id != scope.user_id and not scope.can(P.HOUSEHOLD_IMPORT, job.unit.path):
        raise NotFound()
    return job


def import_run(*, job_id: int, now: dt.datetime) -> ImportJob:
    """Run one import job (idempotent: a job that already finished is left alone)."""
    job = ImportJob.dangerously_unscoped.select_related("unit", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
        return job
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["status"])
    try:
        sheet = read_sheet(bytes(job.content))
        job.total_rows = len(sheet.rows)

        def progress(done: int) -> None:
            ImportJob.dangerously_unscoped.filter(pk=job.pk).update(processed_rows=min(done, job.total_rows),
                                                        total_rows=job.total_rows)

        plan = plan_import(sheet, root=job.unit, actor=job.created_by, today=local(now).date(), progress=progress)
        job.errors = [e.as_dict() for e in plan.errors]
        job.error_rows = len({e.row for e in plan.errors})
        written = write_plan(plan, actor=job.created_by, now=now, root=job.unit,
                             valid_only=job.mode == ImportJob.Mode.VALID_ONLY)
        job.households_created, job.residents_created = written.households, written.residents
        job.processed_rows = job.total_rows = plan.total_rows
        if plan.errors and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
            job.status = ImportJob.Status.REJECTED
            job.message = f"共 {plan.total_rows} 行，{job.error_rows} 行有错误，全部未导入。"
        else:
            job.status = ImportJob.Status.DONE
            job.message = f"已导入 {written.households} 户、{written.residents} 人" + (
                f"；{job.error_rows} 行有错误未导入。" if plan.errors else "。")
    except ValidationFailed as exc:
        job.status = ImportJob.Status.FAILED
        job.message = exc.message
    except MemoryError:
        job.status = ImportJob.Status.FAILED
        job.message = untrusted.refusal_message("memory")
    job.finished_at = now
    job.save()
    return job


def error_report_bytes(job: ImportJob) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "错误报告"
    ws.append(["行号", "列", "值（已脱敏）", "原因"])
    for e in job.errors:
        ws.append([e["row"], e["column"], e["value"], e["reason"]])
    for letter, width in zip("ABCD", (8, 14, 24, 70), strict=True):
        ws.column_dimensions[letter].width = width
    return sheets.workbook_bytes(wb)


# --- export --------------------------------------------------------------------------------------------------
EXPORT_HEADERS = ["户号", "网格", "地址", "门牌号", "户状态", "与户主关系", "姓名", "性别", "年龄", "身份证号",
                  "联系电话", "政治面貌", "人口类型", "外出地点", "重点人群"]


def _export_rows(scope: Scope, unit: Unit | None, today: dt.date, *, full: bool = False) -> Iterator[list[Any]]:
    # Only where the actor holds household.export (a wider view right does not widen the export);
    # a full export only where they also hold resident.unmask.
    qs = Resident.objects.within(scope).filter(scope.path_q("household__unit__path", P.HOUSEHOLD_EXPORT),
                                               status=ResidentStatus.ACTIVE, household__status="active")
    if full:
        qs = qs.filter(scope.path_q("household__unit__path", P.RESIDENT_UNMASK))
    if unit is not None:
        qs = qs.filter(household__unit__path__startswith=unit.path)
    sensitive_paths = scope.paths_for(P.SENSITIVE_TAGS)
    tags: dict[tuple[str, int], list[Tag]] = defaultdict(list)
    tag_qs = TagAssignment.objects.within(scope).filter(end_date__isnull=True).select_related("tag")
    if unit is not None:
        tag_qs = tag_qs.filter(Q(household__unit__path__startswith=unit.path)
                               | Q(resident__household__unit__path__startswith=unit.path))
    if not sensitive_paths:
        tag_qs = tag_qs.exclude(tag__sensitivity="sensitive")
    for t in tag_qs.iterator(chunk_size=5000):
        tags[("h", t.household_id) if t.household_id else ("r", t.resident_id)].append(t.tag)  # type: ignore[arg-type]
    rows = qs.select_related("household__unit").order_by("household_id", "id")
    for r in rows.iterator(chunk_size=2000):
        h = r.household
        sensitive_ok = any(h.unit.path.startswith(p) for p in sensitive_paths)
        minor = idnumber.is_sensitive_minor(r.birth_date, today)
        names = [t.name for t in tags.get(("h", h.pk), []) + tags.get(("r", r.pk), [])
                 if sensitive_ok or not t.is_sensitive]
        yield [h.pk, h.unit.name, h.address, h.house_number, h.get_status_display(), r.get_relation_display(),
               r.name if sensitive_ok or not minor else protected.mask_name(r.name), r.get_gender_display(),
               idnumber.age_on(r.birth_date, today),
               protected.reveal_id(r.id_cipher) if full else r.id_masked,
               protected.reveal_phone(r.phone_cipher) if full else r.phone_masked, r.get_political_status_display(),
               r.get_residency_display(), r.away_place, "、".join(names)]


def export_unit(scope: Scope, unit_id: int | None) -> Unit | None:
    """The unit an export is narrowed to (checked against the export right), or None for the whole scope."""
    unit = get_in_scope(Unit, scope, pk=unit_id) if unit_id else None
    if unit is not None:
        scope.require(P.HOUSEHOLD_EXPORT, unit.path)
    elif not scope.can(P.HOUSEHOLD_EXPORT):
        raise NotFound()
    return unit


def export_count(scope: Scope, unit: Unit | None) -> int:
    """How many resident records the export holds (the figure the approval threshold is compared with)."""
    qs = Resident.objects.within(scope).filter(scope.path_q("household__unit__path", P.HOUSEHOLD_EXPORT),
                                               status=ResidentStatus.ACTIVE, household__status="active")
    if unit is not None:
        qs = qs.filter(household__unit__path__startswith=unit.path)
    return qs.count()


def export_workbook(*, scope: Scope, unit: Unit | None, now: dt.datetime, watermark: str,
                    properties: dict[str, str], full: bool = False) -> tuple[bytes, int]:
    """The actor's scope (or one unit of it) as .xlsx, watermarked: a visible first row, the printed
    page header and footer, and the document properties. ID numbers and phones masked, or in full
    for an approved full export (residents.exports, kind households_full)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户情台账")
    ws.oddHeader.center.text = watermark
    ws.oddFooter.center.text = watermark
    ws.evenHeader.center.text = watermark
    ws.evenFooter.center.text = watermark
    wb.properties.creator = properties.get("creator", "")
    wb.properties.title = "户情台账导出"
    wb.properties.description = watermark
    wb.properties.keywords = properties.get("keywords", "")
    wb.properties.created = now.replace(tzinfo=None)
    ws.append(sheets.text_row(ws, [watermark]))
    ws.append(EXPORT_HEADERS)
    count = 0
    for row in _export_rows(scope, unit, local(now).date(), full=full):
        ws.append(sheets.text_row(ws, row))
        count += 1
    return sheets.workbook_bytes(wb), count
