"""The key-group catalogue (重点人群目录): the tags the county office may create and edit.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core import cleaning
from gridgov.core.errors import CommonError, NotFound, PermissionDenied, ValidationFailed

from .cleaners import clean_choice
from .errors import ResidentError
from .guards import Action
from .models import HouseholdEvent, Sensitivity, Tag, TagAssignment, TagTarget

_TAG_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
CADENCE_MAX_DAYS = 366


def _catalogue_role(actor: User | None) -> tuple[str, str]:
    """Who may edit the catalogue: the holders of category.manage (the county office), as for the case
    categories. Returns (role, unit path) for the audit row."""
    if actor is None:
        return "system", ""
    scope = scope_for(actor)
    paths = scope.paths_for(P.CATEGORY_MANAGE)
    if not paths:
        raise PermissionDenied("只有县网格办可以维护重点人群目录。", reason=CommonError.FORBIDDEN)
    return scope.role_at(paths[0]), paths[0]


def _clean_tag_fields(data: dict[str, Any], *, tag: Tag | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data:
        name = cleaning.text(data["name"], field="name", label="标签名称", max_length=40, required=True)
        if Tag.objects.filter(name=name).exclude(pk=tag.pk if tag else 0).exists():
            raise ValidationFailed(f"已有名为「{name}」的标签。", field="name", reason=ResidentError.TAG_NAME_TAKEN)
        clean["name"] = name
    if "applies_to" in data:
        clean["applies_to"] = clean_choice(data["applies_to"], TagTarget, field="applies_to", label="适用对象")
    if "sensitivity" in data:
        clean["sensitivity"] = clean_choice(data["sensitivity"], Sensitivity, field="sensitivity", label="敏感级别")
    if "visit_cadence_days" in data:
        raw = data["visit_cadence_days"]
        if raw in (None, ""):
            clean["visit_cadence_days"] = None
        else:
            try:
                days = int(str(raw).strip())
            except ValueError as exc:
                raise ValidationFailed("走访周期应为天数（整数）。", field="visit_cadence_days",
                                       reason=CommonError.MALFORMED) from exc
            if not 1 <= days <= CADENCE_MAX_DAYS:
                raise ValidationFailed(f"走访周期应在 1 到 {CADENCE_MAX_DAYS} 天之间，不需要定期走访请留空。",
                                       field="visit_cadence_days", reason=CommonError.OUT_OF_RANGE)
            clean["visit_cadence_days"] = days
    if "sort_order" in data:
        try:
            order = int(str(data["sort_order"] if data["sort_order"] not in (None, "") else 0).strip())
        except ValueError as exc:
            raise ValidationFailed("排序应为整数。", field="sort_order", reason=CommonError.MALFORMED) from exc
        if not 0 <= order <= 9999:
            raise ValidationFailed("排序应在 0 到 9999 之间。", field="sort_order", reason=CommonError.OUT_OF_RANGE)
        clean["sort_order"] = order
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    return clean


@transaction.atomic
def tag_create(*, actor: User | None, now: dt.datetime, name: str, applies_to: str,
               sensitivity: str = Sensitivity.NORMAL,
               visit_cadence_days: Any = None, sort_order: Any = None, code: str = "") -> Tag:
    """Add a key group to the catalogue. The code (used in links and by other modules) is made up
    when not given."""
    role, path = _catalogue_role(actor)
    clean = _clean_tag_fields({"name": name, "applies_to": applies_to, "sensitivity": sensitivity,
                               "visit_cadence_days": visit_cadence_days, "sort_order": sort_order}, tag=None)
    code = (code or "").strip()
    if code:
        if not _TAG_CODE_RE.match(code):
            raise ValidationFailed("标签代码只能用小写字母、数字和下划线，以字母开头，2 到 40 位。", field="code",
                                   reason=CommonError.MALFORMED)
        if Tag.objects.filter(code=code).exists():
            raise ValidationFailed(f"标签代码「{code}」已被使用。", field="code", reason=ResidentError.TAG_CODE_TAKEN)
    else:
        code = "tag_" + secrets.token_hex(4)
    if sort_order in (None, ""):
        last = Tag.objects.order_by("-sort_order").values_list("sort_order", flat=True).first() or 0
        clean["sort_order"] = last + 10
    tag = Tag.objects.create(code=code, **clean)
    audit_record(action="tag.catalogue_create", actor=actor, now=now, obj=tag, unit_path=path, role=role,
                 detail={"code": tag.code, "sensitivity": tag.sensitivity, "cadence": tag.visit_cadence_days})
    return tag


@transaction.atomic
def tag_update(*, actor: User | None, now: dt.datetime, tag_id: int, **changes: Any) -> Tag:
    """Edit a key group: name, sensitivity, visit cadence, order; `is_active=False` retires it (no new
    tags of it; current ones stay until ended). Making a tag sensitive also hides its past history rows."""
    role, path = _catalogue_role(actor)
    allowed = {"name", "applies_to", "sensitivity", "visit_cadence_days", "sort_order", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"不能修改这些字段：{', '.join(sorted(unknown))}", reason=CommonError.UNKNOWN_FIELDS)
    tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
    if tag is None:
        raise NotFound()
    clean = _clean_tag_fields(changes, tag=tag)
    diff = {k: [getattr(tag, k), v] for k, v in clean.items() if getattr(tag, k) != v}
    if not diff:
        return tag
    if "applies_to" in diff and TagAssignment.dangerously_unscoped.filter(tag=tag).exists():
        raise ValidationFailed(f"「{tag.name}」已经用在户或人员上，不能再改适用对象；请新建一个标签。",
                               field="applies_to", reason=ResidentError.TAG_IN_USE)
    old_name = tag.name
    for key, (_, value) in diff.items():
        setattr(tag, key, value)
    tag.save()
    if diff.get("sensitivity", [None, None])[1] == Sensitivity.SENSITIVE:
        # Past history rows of this tag were written as not sensitive: hide them from now on too.
        HouseholdEvent.dangerously_unscoped.filter(action__in=[Action.TAGGED, Action.UNTAGGED], sensitive=False).filter(
            Q(changes__code=tag.code) | Q(changes__tag=old_name) | Q(changes__tag=tag.name)).update(sensitive=True)
    action = "tag.catalogue_retire" if diff.get("is_active") == [True, False] else "tag.catalogue_update"
    audit_record(action=action, actor=actor, now=now, obj=tag, unit_path=path, role=role,
                 detail={"code": tag.code, "changes": {k: [str(a), str(b)] for k, (a, b) in diff.items()}})
    return tag
