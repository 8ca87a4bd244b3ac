"""Seed the default working hours and SLA policies, give every open case its
clocks under them, and give the roles the new permissions."""

from datetime import time, timedelta

from django.db import migrations

# Every day 09:00–21:00, Shanghai time: marketplace shops serve all week.
SERVICE_HOURS = [(weekday, time(9), time(21)) for weekday in range(7)]

# (name, source, priority, first response, resolution) in working time.
# Chat customers wait on the screen: their first answer is due in minutes.
POLICIES = [
    ("Low priority", "", 1, timedelta(hours=8), timedelta(hours=72)),
    ("Normal priority", "", 2, timedelta(hours=4), timedelta(hours=48)),
    ("High priority", "", 3, timedelta(hours=1), timedelta(hours=24)),
    ("Urgent", "", 4, timedelta(minutes=30), timedelta(hours=8)),
    ("Chat, low priority", "chat", 1, timedelta(minutes=10), timedelta(hours=72)),
    ("Chat, normal priority", "chat", 2, timedelta(minutes=10), timedelta(hours=48)),
    ("Chat, high priority", "chat", 3, timedelta(minutes=5), timedelta(hours=24)),
    ("Chat, urgent", "chat", 4, timedelta(minutes=3), timedelta(hours=8)),
]


def seed(apps, schema_editor):
    SlaCalendar = apps.get_model("complaints", "SlaCalendar")
    BusinessHours = apps.get_model("complaints", "BusinessHours")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    calendar, created = SlaCalendar.objects.get_or_create(
        name="Service hours", defaults={"time_zone": "Asia/Shanghai"}
    )
    if created:
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
            for day, opens, closes in SERVICE_HOURS
        )
    for name, source, priority, first, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "source": source,
                "priority": priority,
                "first_response_time": first,
                "resolution_time": resolution,
                "calendar": calendar,
            },
        )


def clock_existing_cases(apps, schema_editor):
    """Open cases keep their due times; they get warn times and ``due_at``."""
    Case = apps.get_model("complaints", "Case")
    open_states = ["confirming", "analyzing", "proposing", "executing", "verifying", "root_cause"]
    changed = []
    for case in Case.objects.filter(state__in=open_states).iterator(chunk_size=2000):
        dues = []
        if case.first_response_due and case.first_response_at is None:
            case.first_response_warn_at = case.created_at + (
                case.first_response_due - case.created_at
            ) * 0.8
            dues.append(case.first_response_due)
        if case.resolution_due:
            case.resolution_warn_at = case.created_at + (
                case.resolution_due - case.created_at
            ) * 0.8
            dues.append(case.resolution_due)
        case.due_at = min(dues, default=None)
        changed.append(case)
        if len(changed) >= 2000:
            Case.objects.bulk_update(
                changed, ["first_response_warn_at", "resolution_warn_at", "due_at"]
            )
            changed = []
    Case.objects.bulk_update(changed, ["first_response_warn_at", "resolution_warn_at", "due_at"])


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0015_sla_policies_and_clocks"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(clock_existing_cases, migrations.RunPython.noop),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]
