"""What holds a task up: its unresolved dependencies, and the gate of its phase (a gated phase
waits until every task of the phases before it is done or skipped)."""

from __future__ import annotations

from collections import defaultdict

from mutualist.onboarding.choices import RESOLVED, TaskStatus
from mutualist.onboarding.models import Journey, Task


def blockers(journey: Journey, tasks: list[Task] | None = None) -> dict[int, list[str]]:
    """For each open task held up, what holds it up, in words a person can act on."""
    tasks = tasks if tasks is not None else list(journey.tasks.select_related("phase"))
    by_id = {t.pk: t for t in tasks}
    edges = Task.depends_on.through.objects.filter(from_task__journey=journey).values_list(
        "from_task_id", "to_task_id"
    )
    depends: dict[int, list[int]] = defaultdict(list)
    for task_id, dependency_id in edges:
        depends[task_id].append(dependency_id)
    open_in_phase: dict[int, list[Task]] = defaultdict(list)
    for t in tasks:
        if t.status not in RESOLVED:
            open_in_phase[t.phase.order].append(t)
    found: dict[int, list[str]] = {}
    for t in tasks:
        if t.status != TaskStatus.OPEN:
            continue
        reasons = [
            f"'{d.title}' ({d.phase.name}) is not done"
            for d in (by_id[i] for i in sorted(depends[t.pk]) if i in by_id)
            if d.status not in RESOLVED
        ]
        if t.phase.gated:
            for order in sorted(o for o in open_in_phase if o < t.phase.order):
                waiting = open_in_phase[order]
                titles = ", ".join(f"'{w.title}'" for w in waiting[:3])
                more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
                reasons.append(
                    f"phase '{waiting[0].phase.name}' is not complete ({titles}{more} open)"
                )
        if reasons:
            found[t.pk] = reasons
    return found
