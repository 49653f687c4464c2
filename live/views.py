"""The person's devices page and the service worker that shows their push notifications."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import PushSubscription


@login_required
def devices(request):
    subscriptions = PushSubscription.objects.filter(user=request.user)
    return render(request, "live/devices.html", {"subscriptions": subscriptions})


@never_cache
def service_worker(request):
    # Served from the root so it may show notifications for every page (its scope is "/").
    response = render(request, "live/sw.js", content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response
