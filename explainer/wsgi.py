"""WSGI entry point, used by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "explainer.settings")
# A reader's request gives up on a stuck PostgreSQL after 5 s, with a 503 page; management
# commands (migrate, the relink worker) are not limited unless their environment says so.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "5000")

application = get_wsgi_application()
