"""The Django stack's settings for its WebSocket endpoints: Django Channels on uvicorn, its
processes joined through Channels' Redis channel layer (the layer Channels documents for
production) on the throwaway Redis the lab starts (REDIS_URL)."""

import os

from .settings import *  # noqa: F403

ASGI_APPLICATION = "config.asgi_ws.application"

# redis-py's asyncio pool holds at most 100 connections by default and raises, rather than
# waits, past that: hundreds of clients joining their groups at once need one connection per
# group operation under way, so the pool may grow to 1,024 (Redis itself takes 10,000).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": os.environ["REDIS_URL"], "max_connections": 1024}]},
    }
}
