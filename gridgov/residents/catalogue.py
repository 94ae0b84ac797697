"""The built-in key-group tags (重点人群) a new deployment starts with; loaded by a data migration.
Deployments add or deactivate tags as data."""

from __future__ import annotations

# (code, name, applies_to, sensitivity, visit cadence in days or None)
BUILTIN_TAGS: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("dibao", "低保户", "household", "sensitive", 30),
    ("tekun", "特困户", "household", "sensitive", 30),
    ("wubao", "五保户", "household", "sensitive", 30),
    ("monitored", "边缘监测户", "household", "sensitive", 30),
    ("hardship", "困难户", "household", "normal", 60),
    ("petitioner", "上访户", "household", "sensitive", 15),
    ("returnee_entrepreneur", "返乡创业户", "household", "normal", 90),
    ("migrant_party_family", "流动党员家属户", "household", "normal", 90),
    ("left_behind_child", "留守儿童", "resident", "sensitive", 30),
    ("left_behind_elder", "留守老人", "resident", "normal", 30),
    ("elder_alone", "独居老人", "resident", "normal", 7),
    ("disabled", "残疾人", "resident", "sensitive", 30),
    ("veteran_party_member", "老党员", "resident", "normal", 90),
    ("veteran", "退役军人", "resident", "normal", 90),
)
