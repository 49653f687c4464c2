"""The person's portal: my agents, one agent's page and its controls, connecting an agent."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from agentauth.consent import grants
from agentauth.consent.models import Grant, GrantChange
from agentauth.identity import lifecycle, scopes
from agentauth.identity.models import AccessToken, Agent
from agentauth.monitoring.models import Alert
from agentauth.oauth.registration import rotate_secret

from . import delegation, services
from .history import TIMELINE_KINDS, is_date, timeline
from .views import read_signed_request, scope_rows, sign_request


@login_required
def dashboard(request):
    agents = services.visible_agents(request.user).order_by("name")
    held = {grant.agent_id: grant for grant in Grant.objects.active().filter(user=request.user)}
    cards = [
        {"agent": agent, "grant": held.get(agent.pk), "owned": agent.user_id == request.user.pk} for agent in agents
    ]
    cards.sort(key=lambda card: (card["grant"] is None, card["agent"].name.lower()))
    return render(request, "portal/dashboard.html", {"cards": cards})


class ConnectForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="How you will recognise it, e.g. “Budget assistant”.")
    description = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(
        choices=[
            ("headless", "Headless: it signs in with its own secret (client credentials or device code)"),
            ("web", "Web: it sends me to a consent screen and gets me back at a redirect URI"),
        ],
        widget=forms.RadioSelect,
        initial="headless",
    )
    redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://my-agent.example/callback"}),
        help_text="One per line. Only for web agents.",
    )
    scope = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [(name, name) for name in scopes.grantable_by(user, scopes.available_to(None))]

    def clean(self):
        data = super().clean()
        data["redirect_uris"] = data.get("redirect_uris", "").split()
        if data.get("mode") == "web" and not data["redirect_uris"]:
            self.add_error("redirect_uris", "A web agent needs at least one redirect URI.")
        return data


@login_required
def connect(request):
    form = ConnectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agent, secret = services.connect_agent(
                request.user,
                name=data["name"],
                description=data["description"],
                headless=data["mode"] == "headless",
                redirect_uris=data["redirect_uris"] if data["mode"] == "web" else [],
                scope_names=data["scope"],
            )
        except ValidationError as error:
            for field, problems in getattr(error, "message_dict", {"__all__": error.messages}).items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            return _show_secret_once(request, agent, secret, created=True)
    everything = scopes.available_to(None)
    return render(request, "portal/connect.html", {"form": form, "groups": scope_rows(request.user, everything)})


def _show_secret_once(request, agent, secret, created):
    # Rendered straight from the POST, never stored or reachable by GET: reloading shows nothing.
    response = render(request, "portal/secret.html", {"agent": agent, "secret": secret, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def agent_page(request, client_id):
    agent = services.agent_for(request.user, client_id)
    grant = Grant.objects.filter(user=request.user, agent=agent).first()
    held = set(grant.scopes) if grant and grant.is_active else set()
    switches = scope_rows(request.user, scopes.available_to(agent))
    for _, rows in switches:
        for row in rows:
            row["checked"] = row["scope"].name in held
    tokens = AccessToken.objects.filter(user=request.user, application=agent, expires__gt=timezone.now())
    kind, day = request.GET.get("kind", ""), parse_date(request.GET.get("day", "") or "") if is_date(request) else None
    context = {
        "agent": agent,
        "grant": grant if held else None,
        "owned": agent.user_id == request.user.pk,
        "switches": switches,
        "tokens": tokens.order_by("-created")[:20],
        "timeline": timeline(request.user, agent, kind, day),
        "alerts": Alert.objects.filter(user=request.user, agent=agent)[:10],
        "kinds": TIMELINE_KINDS,
        "kind": kind,
        "day": day,
        **delegation.context(request.user, agent),
    }
    return render(request, "portal/agent.html", context)


@login_required
@require_POST
def change_scopes(request, client_id):
    """Narrowing applies at once; anything new goes through a consent confirmation first."""
    agent = services.agent_for(request.user, client_id)
    if not agent.is_active:
        messages.error(request, "This agent is not active; resume it before changing what it may do.")
        return redirect("portal:agent", client_id=client_id)
    wanted = set(request.POST.getlist("scope")) & set(scopes.available_to(agent))
    grant = Grant.objects.active().filter(user=request.user, agent=agent).first()
    held = set(grant.scopes) if grant else set()
    added = sorted(scopes.grantable_by(request.user, wanted - held))
    if held - wanted:
        grants.set_scopes(request.user, agent, sorted(held & wanted), via=GrantChange.Via.PORTAL)
        messages.success(request, f"Removed at once: {', '.join(sorted(held - wanted))}.")
    if added:
        payload = {"agent": agent.client_id, "scopes": added}
        return render(
            request,
            "portal/authorize.html",
            {
                "agent": agent,
                "groups": scope_rows(request.user, added),
                "signed_request": sign_request(request.user, payload, "widen"),
                "widening": True,
                "action": reverse("portal:widen", args=[agent.client_id]),
            },
        )
    return redirect("portal:agent", client_id=client_id)


@login_required
@require_POST
def widen(request, client_id):
    agent = services.agent_for(request.user, client_id)
    payload = read_signed_request(request.user, request.POST.get("request"), "widen")
    if payload is None or payload["agent"] != agent.client_id:
        return render(request, "portal/expired.html", status=400)
    if "allow" in request.POST and agent.is_active:
        chosen = [name for name in request.POST.getlist("scope") if name in payload["scopes"]]
        if chosen:
            grants.grant(request.user, agent, chosen, via=GrantChange.Via.PORTAL)
            messages.success(request, f"Allowed: {', '.join(sorted(chosen))}.")
    return redirect("portal:agent", client_id=client_id)


def _owned(request, client_id):
    agent = services.agent_for(request.user, client_id)
    if agent.user_id != request.user.pk:
        raise Http404("Only the person who registered this agent can do that.")
    return agent


@login_required
@require_POST
def set_status(request, client_id):
    agent = _owned(request, client_id)
    action = request.POST.get("action")
    try:
        if action == "suspend":
            lifecycle.suspend(agent)
            messages.success(request, f"{agent.name} is suspended: its tokens stopped working.")
        elif action == "resume":
            lifecycle.resume(agent)
            messages.success(request, f"{agent.name} is active again. Old tokens stay revoked.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("portal:agent", client_id=client_id)


@login_required
@require_POST
def revoke(request, client_id):
    agent = services.agent_for(request.user, client_id)
    services.kill_switch(request.user, agent)
    messages.success(request, f"{agent.name} was cut off: every token it held for you stopped working.")
    return redirect("portal:dashboard")


@login_required
@require_POST
def delete(request, client_id):
    agent = _owned(request, client_id)
    name = agent.name
    services.kill_switch(request.user, agent)
    agent.delete()
    messages.success(request, f"{name} was deleted.")
    return redirect("portal:dashboard")


@login_required
@require_POST
def rotate(request, client_id):
    agent = _owned(request, client_id)
    if agent.client_type != Agent.CLIENT_CONFIDENTIAL:
        raise Http404("This agent has no secret.")
    return _show_secret_once(request, agent, rotate_secret(agent), created=False)


@login_required
@require_POST
def revoke_token(request, client_id, token_id):
    agent = services.agent_for(request.user, client_id)
    token = AccessToken.objects.filter(pk=token_id, user=request.user, application=agent).first()
    if token is None:
        raise Http404("No such token.")
    token.revoke()
    messages.success(request, "That token no longer works.")
    return redirect("portal:agent", client_id=client_id)


@login_required
@require_POST
def sign_out_everywhere(request):
    ended = services.sign_out_everywhere(request.user, keep=request.session.session_key)
    messages.success(request, f"Signed out of {ended} other session(s).")
    return redirect("portal:dashboard")
