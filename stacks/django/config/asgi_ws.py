"""ASGI entry point of the WebSocket endpoints (uvicorn config.asgi_ws:application): Django
Channels routes WebSocket connections to the consumers and HTTP to Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_ws")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django is set up before the consumers (and the models they could import) are loaded.
django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from world.consumers import EchoConsumer, RoomConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_app,
        "websocket": URLRouter(
            [
                re_path(r"^ws/echo$", EchoConsumer.as_asgi()),
                re_path(r"^ws/room/(?P<room_id>[A-Za-z0-9_-]{1,32})$", RoomConsumer.as_asgi()),
            ]
        ),
    }
)
