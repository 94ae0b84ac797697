"""The category tree a new deployment starts with (loaded by a data migration; the county office
edits it afterwards). (code, name, parent, lowest level, department kind, on site, escalate when overdue)."""

from __future__ import annotations

from typing import Any

CATEGORY_TREE: tuple[tuple[str, str, str | None, str, str, bool, bool], ...] = (
    ("livelihood", "民生服务", None, "grid", "civil_affairs", False, False),
    ("livelihood_water", "供水供电", "livelihood", "township", "utilities", False, False),
    ("livelihood_hardship", "生活困难救助", "livelihood", "township", "civil_affairs", True, True),
    ("dispute", "矛盾纠纷", None, "grid", "judicial", False, False),
    ("dispute_neighbour", "邻里纠纷", "dispute", "grid", "judicial", False, False),
    ("dispute_land", "土地山林纠纷", "dispute", "village", "land", False, False),
    ("petition", "信访诉求", "dispute", "township", "petition", True, True),
    ("hazard", "安全隐患", None, "village", "emergency", True, True),
    ("hazard_fire", "消防隐患", "hazard", "township", "fire", True, True),
    ("hazard_geology", "地质灾害隐患", "hazard", "township", "land", True, True),
    ("sanitation", "环境卫生", None, "grid", "environment", False, False),
    ("illegal_building", "违法建设", None, "township", "land", False, False),
    ("public_order", "治安", None, "township", "police", False, True),
    ("epidemic", "疫情防控", None, "village", "health", True, True),
    ("labour", "劳动保障", None, "township", "labour", False, False),
    ("labour_wages", "拖欠工资", "labour", "township", "labour", False, True),
    ("major_project", "重大项目", None, "township", "development", True, False),
    ("other", "其他", None, "grid", "", False, False),
)


def seed_categories(category_model: Any, deadlines: dict[str, dict[str, int]]) -> None:
    """Create or refresh the built-in categories (used by the data migration and the world generator)."""
    by_code: dict[str, Any] = {}
    for order, (code, name, parent, level, dept_kind, on_site, escalate) in enumerate(CATEGORY_TREE):
        obj, _ = category_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "parent": by_code.get(parent or ""), "lowest_level": level,
                "department_kind": dept_kind, "on_site": on_site, "escalate_when_overdue": escalate,
                "deadlines": deadlines, "sort_order": order,
            },
        )
        by_code[code] = obj
