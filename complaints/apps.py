from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints and cases")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from casetracker.database import create_cache_tables, tune_session

        from . import security, webhooks  # noqa: F401  (security: its signal receivers)
        from .signals import case_event_recorded

        connection_created.connect(tune_session, dispatch_uid="database_session_tuning")
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="cache_tables")
        case_event_recorded.connect(webhooks.record_deliveries, dispatch_uid="webhook_outbox")
