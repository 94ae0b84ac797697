"""Built-in unit kinds and themes (多网合一) a new deployment starts with."""

from __future__ import annotations

BUILTIN_KINDS: tuple[tuple[str, str, str], ...] = (
    # (code, name, base)
    ("county", "县（区）", "county"),
    ("township", "乡镇", "township"),
    ("subdistrict", "街道", "subdistrict"),
    ("area", "片区", "area"),
    ("village", "行政村", "village"),
    ("community", "社区", "community"),
    ("grid", "网格", "grid"),
    ("micro_grid", "微网格", "micro_grid"),
    ("hamlet_grid", "屋场网格", "grid"),
    ("red_micro_grid", "红色微网格", "micro_grid"),
    ("prefecture", "市（州）", "prefecture"),
)

BUILTIN_THEMES: tuple[tuple[str, str], ...] = (
    ("party_building", "党建网格"),
    ("public_safety", "综治网格"),
    ("civil_affairs", "民政网格"),
    ("relapse_monitoring", "防返贫监测网格"),
    ("rural_revitalisation", "乡村振兴网格"),
    ("emergency", "应急网格"),
    ("work_safety", "安全生产网格"),
    ("epidemic", "疫情防控网格"),
    ("environment", "生态环保网格"),
)
