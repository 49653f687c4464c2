from django.urls import path

from . import views

app_name = "examples"

urlpatterns = [
    path("documents/", views.DocumentList.as_view(), name="documents"),
]
