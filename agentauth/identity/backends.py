"""How Django finds the signed-in person: ModelBackend's rules (password sign-in, inactive
people refused), with the person each request loads read by a query compiled once (lookups)."""

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend

from . import lookups


class PersonBackend(ModelBackend):
    def get_user(self, user_id):
        user = lookups.person.one(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
