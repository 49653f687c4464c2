"""Celery entry points of monitoring: thin wrappers over plain functions."""

from celery import shared_task
from django.contrib.auth import get_user_model

from agentauth.identity.models import Agent

from . import activity, reviews, rules


@shared_task
def flush_activity():
    return activity.flush()


@shared_task
def security_review():
    return reviews.run()


@shared_task
def check_denials(agent_id, user_id):
    """After a person denies a request: the denial rule need not wait for the minute's flush."""
    rules.check_denials(Agent.objects.get(pk=agent_id), get_user_model().objects.get(pk=user_id))
