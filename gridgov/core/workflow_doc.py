"""docs/workflows/<name>.md, generated from a workflow's table (core/workflow.py): a state diagram
(Mermaid), its statuses with their status types, and its actions. Never edit those files by hand:
run `manage.py workflow_docs`; tests/architecture/test_workflow_docs.py fails when one is stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .workflow import Workflow

DOC_DIR = Path("docs") / "workflows"


def doc_path(flow: Workflow[Any]) -> Path:
    return DOC_DIR / f"{flow.name}.md"


def _code(status: Any) -> str:
    return str(getattr(status, "value", status))


def render(flow: Workflow[Any]) -> str:
    order = [s.code for s in flow.statuses]

    def sort(statuses: Any) -> list[str]:
        return sorted((_code(s) for s in statuses), key=order.index)

    initial, initial_label = flow.initial
    lines = [
        f"# {flow.title}",
        "",
        f"<!-- Generated from the {flow.name} workflow table by `manage.py workflow_docs`. Do not edit. -->",
        "",
        f"Every change goes through one locked transition (`{flow.service}`, run by the workflow engine in "
        "`gridgov/core/workflow.py`).",
    ]
    if flow.note:
        lines.append(flow.note)
    lines += ["", "```mermaid", "stateDiagram-v2", f"    [*] --> {initial}: {initial_label}"]
    reached: set[str] = set()
    for action in flow.actions.values():
        for source in sort(action.sources):
            targets = sort(action.targets) or [source]
            for target in targets:
                lines.append(f"    {source} --> {target}: {action.code} {action.label}")
                reached.add(source)
        for extra in action.also_from:
            for target in sort(action.targets) or [_code(extra.status)]:
                lines.append(f"    {_code(extra.status)} --> {target}: {action.code} {action.label} [{extra.label}]")
    leaving = {_code(s) for a in flow.actions.values() for s in a.sources}
    for code in order:
        if code not in leaving:
            lines.append(f"    {code} --> [*]")
    extra_status = flow.doc_status_columns()
    lines += ["```", "", "## Statuses", "",
              "| status | 名称 | type |" + "".join(f" {h} |" for h, _ in extra_status),
              "|---|---|---|" + "---|" * len(extra_status)]
    for s in flow.statuses:
        lines.append(f"| `{s.code}` | {s.label} | {s.type.value} |" + "".join(f" {fn(s)} |" for _, fn in extra_status))
    extra_action = flow.doc_action_columns()
    lines += ["", "## Actions", "",
              "| action | 名称 | from | to | permission | guards |" + "".join(f" {h} |" for h, _ in extra_action),
              "|---|---|---|---|---|---|" + "---|" * len(extra_action)]
    for a in flow.actions.values():
        sources = ", ".join(sort(a.sources))
        if a.also_from:
            sources += "; " + ", ".join(f"{_code(g.status)} ({g.label})" for g in a.also_from)
        target = ", ".join(sort(a.targets)) or "(same)"
        guards = ", ".join(f"`{getattr(g, '__name__', 'guard').strip('_')}`" for g in a.guards)
        perm = f"`{a.perm}`" if a.perm else "(system)"
        lines.append(f"| `{a.code}` | {a.label} | {sources} | {target} | {perm} | {guards} |"
                     + "".join(f" {fn(a)} |" for _, fn in extra_action))
    lines.append("")
    return "\n".join(lines)


def stale(flows: list[Workflow[Any]], base: Path) -> list[str]:
    """The diagrams under `base` that are missing or differ from their tables."""
    out = []
    for flow in flows:
        path = base / doc_path(flow)
        if not path.exists() or path.read_text(encoding="utf-8") != render(flow):
            out.append(str(doc_path(flow)))
    return out
