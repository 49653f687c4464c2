from django.urls import path

from agentauth.lib import converters  # noqa: F401 - registers <client_id:...>

from . import api, ciba, views

app_name = "approvals"

urlpatterns = [
    path("o/bc-authorize", ciba.BackchannelAuthentication.as_view(), name="ciba"),
    path("approvals/", views.inbox, name="inbox"),
    path("approvals/<str:approval_id>/", views.detail, name="detail"),
    path("approvals/<str:approval_id>/decide/", views.decide, name="decide"),
    path("approvals/<str:approval_id>/reauth/", views.reauth, name="reauth"),
    path("agents/<client_id:client_id>/approval-policy/", views.set_policy, name="set_policy"),
    path("api/v1/approvals/", api.approval_list, name="list"),
    path("api/v1/approvals/<str:approval_id>", api.approval_status, name="status"),
    path("api/v1/approvals/<str:approval_id>/decision", api.DecisionCreate.as_view(), name="decision"),
]
