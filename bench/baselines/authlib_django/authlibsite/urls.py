from django.urls import path
from oauth import views

urlpatterns = [
    path("o/token/", views.issue_token),
    path("healthz", views.healthz),
]
