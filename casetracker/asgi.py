"""ASGI entry point for casetracker."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetracker.settings")

application = get_asgi_application()
