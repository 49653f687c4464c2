"""Alerts, the person's security review, and the admins' report."""

import csv
import io
import json

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from agentauth.consent import grants
from agentauth.consent.models import Grant, GrantChange
from agentauth.identity import lifecycle
from agentauth.lib import numbers
from agentauth.monitoring import reviews
from agentauth.monitoring.models import Alert, PersonSettings

from . import services


@login_required
def alerts(request):
    mine = Alert.objects.filter(user=request.user).select_related("agent")
    return render(
        request,
        "portal/alerts.html",
        {"open": mine.filter(acknowledged_at__isnull=True), "acknowledged": mine.exclude(acknowledged_at=None)[:50]},
    )


@login_required
@require_POST
def handle_alert(request, alert_id):
    alert = Alert.objects.select_related("agent").filter(pk=alert_id, user=request.user).first()
    if alert is None:
        raise Http404("No such alert.")
    action = request.POST.get("action")
    if action in ("acknowledge", "suspend", "revoke"):
        Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now())
    if action == "suspend" and alert.agent.user_id == request.user.pk:
        lifecycle.suspend(alert.agent)
        messages.success(request, f"{alert.agent.name} is suspended.")
    elif action == "revoke":
        services.kill_switch(request.user, alert.agent)
        messages.success(request, f"{alert.agent.name} was cut off.")
    return redirect("portal:alerts")


@login_required
def review(request):
    settings_row, _ = PersonSettings.objects.get_or_create(user=request.user)
    return render(
        request,
        "portal/security.html",
        {"findings": reviews.findings(request.user), "unusual_hours": settings_row.unusual_hours, "hours": range(24)},
    )


@login_required
@require_POST
def narrow_unused(request, client_id):
    """The one-click fix of a 'never used' finding: drop the unused scopes from the grant."""
    grant = Grant.objects.active().select_related("agent").filter(user=request.user, agent__client_id=client_id).first()
    if grant is None:
        raise Http404("No such grant.")
    unused = set(request.POST.getlist("scope"))
    grants.set_scopes(request.user, grant.agent, sorted(set(grant.scopes) - unused), via=GrantChange.Via.PORTAL)
    messages.success(request, f"{grant.agent.name} no longer has: {', '.join(sorted(unused & set(grant.scopes)))}.")
    return redirect("portal:security")


@login_required
@require_POST
def set_unusual_hours(request):
    hours = sorted({int(hour) for hour in request.POST.getlist("hour") if numbers.is_id(hour) and int(hour) < 24})
    PersonSettings.objects.update_or_create(user=request.user, defaults={"unusual_hours": hours})
    messages.success(request, "Saved: calls in those hours raise an alert.")
    return redirect("portal:security")


@staff_member_required
@permission_required("monitoring.view_security_report", raise_exception=True)
def report(request):
    """Every finding for every person: HTML for reading, CSV and JSON to export. Being staff is
    not enough: it names every person, so it needs its own permission."""
    found = reviews.findings()
    export = request.GET.get("format")
    if export == "json":
        response = HttpResponse(
            json.dumps([finding.as_dict() for finding in found], indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="agentauth-security-review.json"'
        return response
    if export == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["kind", "severity", "summary", "user", "client_id", "scopes"])
        for finding in found:
            writer.writerow(
                [
                    finding.kind,
                    finding.severity,
                    finding.summary,
                    finding.user,
                    finding.client_id,
                    " ".join(finding.scopes),
                ]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="agentauth-security-review.csv"'
        return response
    return render(request, "portal/report.html", {"findings": found})
