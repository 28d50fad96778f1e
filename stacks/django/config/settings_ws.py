"""The Django stack's settings for its WebSocket endpoints: Django Channels on uvicorn, its
processes joined through Channels' Redis channel layer (the layer Channels documents for
production) on the throwaway Redis the lab starts (REDIS_URL)."""

import os

from .settings import *  # noqa: F403

ASGI_APPLICATION = "config.asgi_ws.application"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
    }
}
