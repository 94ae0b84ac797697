"""docs/workflows/cases.md, generated from the transition table (states.py). Never edit it by hand:
run `manage.py case_workflow_doc`; a test fails when the file is stale."""

from __future__ import annotations

from pathlib import Path

from .states import ACTIONS, STATUSES, TERMINAL, Status

DOC_PATH = Path("docs") / "workflows" / "cases.md"


def render_markdown() -> str:
    lines = [
        "# Case workflow (事件闭环)",
        "",
        "<!-- Generated from gridgov/cases/states.py by `manage.py case_workflow_doc`. Do not edit. -->",
        "",
        "Every state change goes through one locked transition service (`gridgov.cases.services.case_act`).",
        "Actions without a target keep the status (urge, supervise, extension requests).",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> reported: report 登记",
    ]
    for action in ACTIONS.values():
        for source in sorted(action.sources, key=lambda s: list(Status).index(s)):
            target = action.target.value if action.target is not None else source.value
            lines.append(f"    {source.value} --> {target}: {action.code} {action.label}")
    for status in sorted(TERMINAL, key=lambda s: list(Status).index(s)):
        lines.append(f"    {status.value} --> [*]")
    lines += ["```", "", "## Statuses", "",
              "| status | 名称 | type | public status | held by |", "|---|---|---|---|---|"]
    for sd in STATUSES.values():
        lines.append(f"| `{sd.status.value}` | {sd.status.label} | {sd.type.value} | {sd.public.value} "
                     f"({sd.public.label}) | {'department' if sd.held_by_department else 'unit'} |")
    lines += ["", "## Actions", "", "| action | 名称 | from | to | who | permission | automatic | new deadline |",
              "|---|---|---|---|---|---|---|---|"]
    for a in ACTIONS.values():
        sources = ", ".join(s.value for s in sorted(a.sources, key=lambda s: list(Status).index(s)))
        target = a.target.value if a.target is not None else "(same)"
        lines.append(f"| `{a.code}` | {a.label} | {sources} | {target} | {a.who.value} | `{a.perm}` | "
                     f"{'yes' if a.automatic else ''} | {'yes' if a.sets_deadline else ''} |")
    lines.append("")
    return "\n".join(lines)
