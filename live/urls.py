from django.urls import path

from . import api, views

app_name = "live"

urlpatterns = [
    path("api/v1/push/subscriptions", api.Subscriptions.as_view(), name="subscriptions"),
    path("api/v1/push/subscriptions/<str:subscription_id>", api.SubscriptionDetail.as_view(), name="subscription"),
    path("devices/", views.devices, name="devices"),
    path("sw.js", views.service_worker, name="service-worker"),
]
