"""Monitoring counts every call a resource API announces."""

from django.dispatch import receiver

from agentauth.resource.signals import api_called

from . import activity


@receiver(api_called)
def count_the_call(sender, client_id, subject, outcome, ip, user_agent, scopes, **kwargs):
    activity.note_call(client_id, subject, outcome, ip=ip, user_agent=user_agent, scopes=scopes)
