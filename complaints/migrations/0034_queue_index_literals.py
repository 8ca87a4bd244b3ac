"""The queue indexes' constants are sql.Literal now, as the queue queries'
are (complaints/paging.py: due_key, priority_key). Literal writes a value
into the SQL the way CREATE INDEX always did, so each index's SQL is the
same as before: only the migration state changes, and no index is rebuilt
(test_project checks that the database's indexes are the models')."""

import complaints.sql
import datetime
import django.db.models.expressions
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0033_deadline_clocks_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_queue_assignee_due",
                ),
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_queue_due",
                ),
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_queue_assignee_prio",
                ),
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_queue_prio",
                ),
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_all_due",
                ),
                migrations.RemoveIndex(
                    model_name="case",
                    name="case_all_prio",
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        models.F("assignee"),
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        condition=models.Q(
                            (
                                "state__in",
                                (
                                    "confirming",
                                    "analyzing",
                                    "proposing",
                                    "executing",
                                    "verifying",
                                    "root_cause",
                                ),
                            )
                        ),
                        name="case_queue_assignee_due",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        condition=models.Q(
                            (
                                "state__in",
                                (
                                    "confirming",
                                    "analyzing",
                                    "proposing",
                                    "executing",
                                    "verifying",
                                    "root_cause",
                                ),
                            )
                        ),
                        name="case_queue_due",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        models.F("assignee"),
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        condition=models.Q(
                            (
                                "state__in",
                                (
                                    "confirming",
                                    "analyzing",
                                    "proposing",
                                    "executing",
                                    "verifying",
                                    "root_cause",
                                ),
                            )
                        ),
                        name="case_queue_assignee_prio",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        condition=models.Q(
                            (
                                "state__in",
                                (
                                    "confirming",
                                    "analyzing",
                                    "proposing",
                                    "executing",
                                    "verifying",
                                    "root_cause",
                                ),
                            )
                        ),
                        name="case_queue_prio",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        name="case_all_due",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        django.db.models.expressions.CombinedExpression(
                            models.F("priority"), "*", complaints.sql.Literal(-1)
                        ),
                        django.db.models.functions.comparison.Coalesce(
                            "due_at",
                            complaints.sql.Literal(
                                datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                                output_field=models.DateTimeField(),
                            ),
                        ),
                        models.F("created_at"),
                        models.F("id"),
                        name="case_all_prio",
                    ),
                ),
            ],
        ),
    ]
