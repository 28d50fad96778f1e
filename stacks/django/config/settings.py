"""Production settings for the stackwise API on Django."""

import os
from urllib.parse import unquote, urlsplit


def _database():
    """The PostgreSQL connection from DB_* (or DATABASE_URL), as Django wants it."""
    env = os.environ
    if env.get("DB_NAME"):
        host, port, user, password, name = (
            env.get("DB_HOST", "127.0.0.1"),
            env.get("DB_PORT", "5432"),
            env["DB_USER"],
            env.get("DB_PASSWORD", ""),
            env["DB_NAME"],
        )
    else:
        url = urlsplit(env["DATABASE_URL"])
        host, port = url.hostname, str(url.port or 5432)
        user, password = unquote(url.username or ""), unquote(url.password or "")
        name = url.path.lstrip("/")
    return {
        "ENGINE": "django.db.backends.postgresql",  # psycopg 3
        "HOST": host,
        "PORT": port,
        "USER": user,
        "PASSWORD": password,
        "NAME": name,
        # A sync gunicorn worker serves one request at a time: keep its one connection open.
        "CONN_MAX_AGE": None,
    }


# No sessions, signing or auth are used; the key only has to be set.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "stackwise-benchmark-key-nothing-here-is-signed-or-secret-8f3k2x9q")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["world"]
# Only CommonMiddleware, for its Content-Length header (no sessions, auth, CSRF or messages).
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]

# Django's body limit, /aggregate's 8 MiB (docs/spec.md): a larger body raises
# RequestDataTooBig when read, which the views answer with a JSON 400 (/predict checks its 1 MiB
# on the body read).
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
USE_I18N = False
TIME_ZONE = "UTC"
USE_TZ = True
