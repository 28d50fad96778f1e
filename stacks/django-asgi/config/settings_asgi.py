"""The Django stack's settings, less what Django says to change when it is served over ASGI."""

import os

from .settings import *  # noqa: F403
from .settings import DATABASES

# "When using ASGI, persistent connections should be disabled. Instead, use your database
# backend's built-in connection pooling" (Django's databases reference). Under ASGI each request
# runs its ORM calls in a thread of its own, so a persistent connection (the WSGI stack's
# CONN_MAX_AGE = None) would be opened per request and never reused. Django's psycopg pool
# (Django >= 5.1, psycopg_pool) is shared by the threads of a worker process instead: a fixed
# size, so the connections stay the same while measured.
DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "8"))
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": DB_POOL_SIZE, "max_size": DB_POOL_SIZE}}

ASGI_APPLICATION = "config.asgi.application"
