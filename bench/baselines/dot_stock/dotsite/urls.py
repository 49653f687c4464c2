from django.urls import include, path
from documents import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/documents/", views.DocumentList.as_view()),
    path("healthz", views.healthz),
]
