from django.urls import path

from agentauth.lib import converters  # noqa: F401 - registers <client_id:...>

from . import delegation, history, portal, security, views

app_name = "portal"

urlpatterns = [
    path("dashboard/", portal.dashboard, name="dashboard"),
    path("device/", views.DeviceView.as_view(), name="device"),
    path("agents/new/", portal.connect, name="connect"),
    path("agents/<client_id:client_id>/", portal.agent_page, name="agent"),
    path("agents/<client_id:client_id>/scopes/", portal.change_scopes, name="change_scopes"),
    path("agents/<client_id:client_id>/widen/", portal.widen, name="widen"),
    path("agents/<client_id:client_id>/status/", portal.set_status, name="set_status"),
    path("agents/<client_id:client_id>/revoke/", portal.revoke, name="revoke"),
    path("agents/<client_id:client_id>/delete/", portal.delete, name="delete"),
    path("agents/<client_id:client_id>/rotate-secret/", portal.rotate, name="rotate"),
    path("agents/<client_id:client_id>/delegations/", delegation.allow, name="allow_delegation"),
    path("agents/<client_id:client_id>/delegations/<int:delegation_id>/cut/", delegation.cut, name="cut_delegation"),
    path("agents/<client_id:client_id>/tokens/<int:token_id>/revoke/", portal.revoke_token, name="revoke_token"),
    path("history/", history.history, name="history"),
    path("history/receipt.json", history.receipt, name="receipt"),
    path("sign-out-everywhere/", portal.sign_out_everywhere, name="sign_out_everywhere"),
    path("alerts/", security.alerts, name="alerts"),
    path("alerts/<int:alert_id>/", security.handle_alert, name="handle_alert"),
    path("security/", security.review, name="security"),
    path("security/unusual-hours/", security.set_unusual_hours, name="unusual_hours"),
    path("security/narrow/<client_id:client_id>/", security.narrow_unused, name="narrow_unused"),
    path("security/report/", security.report, name="report"),
]
