"""docs/spec.md's WebSocket endpoints as Django Channels consumers. A room is a channel-layer
group: every message a member sends goes through the layer to every member, the sender
included, so the processes of the server share its rooms."""

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=text_data)


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = "room." + self.scope["url_route"]["kwargs"]["room_id"]
        # A member from its completed handshake: in the group before the 101 is sent.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "room.message", "text": text_data}
            )

    async def room_message(self, event):
        await self.send(text_data=event["text"])
