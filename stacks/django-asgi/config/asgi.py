"""ASGI entry point for uvicorn: config.asgi:application."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_asgi")

application = get_asgi_application()
