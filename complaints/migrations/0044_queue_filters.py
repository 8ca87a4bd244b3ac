"""The queues' filters: indexes that find what a filter keeps, statistics
that tell PostgreSQL how much that is, and the rule the state filter relies on.

- Source, category and root cause each get an index with the state (the
  category's and the root cause's replace their foreign keys' own): a
  filter's matches in an open queue are found and counted from it, not by
  walking the queue's order or the table.
- Cases with a root cause get their own due order: they are closed, and sort
  after every open case.
- The unassigned queue gets its own indexes in each sort.
- Only an open case has a deadline (case_closed_has_no_deadline).
- PostgreSQL learns which states have root causes (extended statistics on
  state and root cause: only closed cases have one). Without that it takes
  a root cause among the open cases to match one in twenty, walks the
  queue's order to find them, and reads every open case for none (at 1M
  cases 560 ms; 1 s along the root-caused due order). SQLite keeps no such
  statistics; the indexes serve it as they are.
"""

import complaints.sql
import datetime
import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

STATISTICS = "complaints_case_state_root_cause"
OPEN_STATES = ["confirming", "analyzing", "proposing", "executing", "verifying", "root_cause"]


def clear_closed_deadlines(apps, schema_editor):
    """Every path that closes or cancels a case clears its deadline
    (sla.refresh_due); a row that somehow kept one would stop the new
    constraint from being added, so it is cleared first."""
    Case = apps.get_model("complaints", "Case")
    Case.objects.exclude(state__in=OPEN_STATES).filter(due_at__isnull=False).update(due_at=None)


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv) "
        "ON state, root_cause_id FROM complaints_case"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM complaints_case)")
        (has_cases,) = cursor.fetchone()
    if has_cases:  # fill them now; an empty table has nothing to learn from yet
        schema_editor.execute("ANALYZE complaints_case")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0043_review_case_state_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(clear_closed_deadlines, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name='case',
            name='category',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='complaints.rootcausecategory', verbose_name='category'),
        ),
        migrations.AlterField(
            model_name='case',
            name='root_cause',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='complaints.rootcausecategory', verbose_name='root cause'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['source', 'state'], name='case_source_state'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['category', 'state'], name='case_category_state'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['root_cause', 'state'], name='case_root_cause_state'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(django.db.models.functions.comparison.Coalesce('due_at', complaints.sql.Literal(datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField())), django.db.models.expressions.CombinedExpression(models.F('priority'), '*', complaints.sql.Literal(-1)), models.F('created_at'), models.F('id'), condition=models.Q(('root_cause__isnull', False)), name='case_root_caused_due'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(django.db.models.functions.comparison.Coalesce('due_at', complaints.sql.Literal(datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField())), django.db.models.expressions.CombinedExpression(models.F('priority'), '*', complaints.sql.Literal(-1)), models.F('created_at'), models.F('id'), condition=models.Q(('assignee__isnull', True), ('state__in', ('confirming', 'analyzing', 'proposing', 'executing', 'verifying', 'root_cause'))), name='case_unassigned_due'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(django.db.models.expressions.CombinedExpression(models.F('priority'), '*', complaints.sql.Literal(-1)), django.db.models.functions.comparison.Coalesce('due_at', complaints.sql.Literal(datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField())), models.F('created_at'), models.F('id'), condition=models.Q(('assignee__isnull', True), ('state__in', ('confirming', 'analyzing', 'proposing', 'executing', 'verifying', 'root_cause'))), name='case_unassigned_prio'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('assignee__isnull', True), ('state__in', ('confirming', 'analyzing', 'proposing', 'executing', 'verifying', 'root_cause'))), fields=['created_at', 'id'], name='case_unassigned_created'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ('confirming', 'analyzing', 'proposing', 'executing', 'verifying', 'root_cause')), ('due_at__isnull', True), _connector='OR'), name='case_closed_has_no_deadline'),
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
