from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import freshness


@receiver(user_logged_in)
def remember_when_the_person_signed_in(sender, request, user, **kwargs):
    freshness.confirm(request, getattr(request, "signin_method", "password"))
