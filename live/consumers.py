"""The live feed of a person's approvals, for every open tab and device."""

import hashlib

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agentauth.lib import ratelimit
from agentauth.lib.channel_reads import SafeReads
from approvals.cards import card
from approvals.groups import person_group
from approvals.models import ApprovalRequest

# The feed is server → client: a client has nothing to say that needs a big frame or many of them.
MAX_FRAME = 4096
CLIENT_MESSAGES = ratelimit.Rate(capacity=5, per_seconds=60)

# Close codes in the private range (4000–4999), mirroring the HTTP statuses they stand for.
UNAUTHENTICATED, TOO_MANY = 4401, 4429


def session_group(session_key):
    return "approvals.session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


@database_sync_to_async
def pending_for(user):
    approvals = ApprovalRequest.objects.live().for_person(user).select_related("agent").order_by("created_at")
    return [card(approval) for approval in approvals]


class ApprovalConsumer(AsyncJsonWebsocketConsumer):
    """Pushes approval.created / approval.updated (and agent.updated) to the signed-in person.

    Decisions never travel over the socket: they need the CSRF-protected HTTP endpoint.
    """

    groups_joined = ()

    @property
    def channel_layer(self):
        return self._channel_layer

    @channel_layer.setter
    def channel_layer(self, layer):
        # Channels cancels this consumer's receive() when the socket closes, which can lose
        # another tab's push in flight (agentauth.lib.channel_reads); SafeReads ends the read by message.
        self._channel_layer = SafeReads(layer) if layer is not None else None

    async def connect(self):
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            await self.close(code=UNAUTHENTICATED)
            return
        # Opening sockets in a loop costs the server a group membership and a database read each.
        try:
            refused = await sync_to_async(ratelimit.retry_after)([("socket", f"socket:person:{user.pk}")])
        except ratelimit.RateLimitUnavailable:
            refused = True
        if refused:
            await self.close(code=TOO_MANY)
            return
        self.allowance = ratelimit.Bucket(CLIENT_MESSAGES)
        self.groups_joined = (person_group(user.pk), session_group(session.session_key))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        # The channel layer may have dropped messages while this tab was away: the database is
        # the truth, so every pending approval is sent again on connect.
        for approval in await pending_for(user):
            await self.send_json({"type": "approval.created", "approval": approval})

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None or text_data is None or len(text_data) > MAX_FRAME:
            await self.close(code=1009 if text_data and len(text_data) > MAX_FRAME else 1003)
            return
        allowed, _ = self.allowance.take()
        if not allowed:
            await self.close(code=1008)  # policy violation: a flood gets no answer per frame
            return
        await self.send_json({"type": "error", "error": "read_only", "detail": "Decide on the approval page."})

    async def approval_event(self, event):
        await self.send_json({"type": event["event"], "approval": event["approval"]})

    async def agent_event(self, event):
        await self.send_json({key: value for key, value in event.items() if key != "event"} | {"type": event["event"]})

    async def session_ended(self, event):
        await self.close(code=UNAUTHENTICATED)
