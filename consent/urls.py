from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("device/", views.DeviceView.as_view(), name="device"),
]
