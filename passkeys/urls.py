from django.urls import path

from . import views

app_name = "passkeys"

urlpatterns = [
    path("passkeys/", views.page, name="page"),
    path("passkeys/add", views.add, name="add"),
    path("passkeys/options/<str:purpose>", views.options, name="options"),
    path("passkeys/sign-in", views.sign_in, name="sign_in"),
    path("passkeys/<int:passkey_id>/remove/", views.remove, name="remove"),
]
