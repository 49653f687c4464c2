from django.urls import path

from . import payments, views

app_name = "examples"

urlpatterns = [
    path("documents/", views.DocumentList.as_view(), name="documents"),
    path("payments/", payments.PaymentList.as_view(), name="payments"),
]
