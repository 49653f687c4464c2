from django.urls import path

from . import invitations, payments, views

app_name = "examples"

urlpatterns = [
    path("documents/", views.DocumentList.as_view(), name="documents"),
    path("payments/", payments.PaymentList.as_view(), name="payments"),
    path("calendar/invitations/", invitations.InvitationList.as_view(), name="invitations"),
]
