"""Print the case state machine as a Mermaid diagram for the README.

The edges come from django-fsm's own graph (the one ``graph_transitions``
draws), so the README cannot drift from the code: a test compares them.
"""

import re

from django.core.management.base import BaseCommand
from django_fsm.management.commands.graph_transitions import generate_dot, one_fsm_fields_data

from complaints.models import Case, CaseState

EDGE = re.compile(r'"[\w.]+\.state\.(\w+)" -> "[\w.]+\.state\.(\w+)" \[label=(\w+)\]')


def case_transitions() -> list[tuple[str, str, str]]:
    """Return (source, target, transition) for every edge of the case graph."""
    dot = generate_dot([one_fsm_fields_data(Case, "state")]).source
    order = list(CaseState.values)
    edges = {match.groups() for match in EDGE.finditer(dot)}
    return sorted(edges, key=lambda e: (order.index(e[0]), order.index(e[1]), e[2]))


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {CaseState.CONFIRMING.value}"]
    lines += [f"    {source} --> {target}: {name}" for source, target, name in case_transitions()]
    lines += [f"    {CaseState.CLOSED.value} --> [*]", f"    {CaseState.CANCELLED.value} --> [*]"]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the case state machine as a Mermaid block (for README.md)."

    def handle(self, *args, **options):
        self.stdout.write("```mermaid\n" + mermaid() + "\n```")
