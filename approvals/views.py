"""The person's approval pages: the inbox, one approval with its full context, re-authentication."""

import json

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agentauth.consent import delegations
from agentauth.identity.models import Agent
from agentauth.lib import numbers, ratelimit
from passkeys import ceremonies, freshness
from portal.views import throttled_page

from . import policies, services
from .api import needs_fresh_sign_in
from .models import AlreadyDecided, ApprovalRequest


def _own(request, approval_id):
    approval = ApprovalRequest.objects.select_related("agent").filter(pk=approval_id, user=request.user).first()
    if approval is None:
        raise Http404("No such approval.")  # the same answer for someone else's and for none (AP-04)
    return approval


@login_required
def inbox(request):
    mine = ApprovalRequest.objects.for_person(request.user).select_related("agent")
    return render(
        request,
        "approvals/inbox.html",
        {"pending": mine.live().order_by("expires_at"), "recent": mine.exclude(pk__in=mine.live())[:30]},
    )


@login_required
def detail(request, approval_id):
    approval = _own(request, approval_id)
    return render(
        request,
        "approvals/detail.html",
        {
            "approval": approval,
            "needs_reauth": needs_fresh_sign_in(request, approval),
            "handed_on_by": delegations.handed_on_by(approval.token_jti),
        },
    )


@login_required
@require_POST
def decide(request, approval_id):
    """The form fallback for people without JavaScript; the portal's script uses the JSON endpoint."""
    approval = _own(request, approval_id)
    approve = "approve" in request.POST
    if approve and needs_fresh_sign_in(request, approval):
        return redirect("approvals:reauth", approval_id=approval.pk)
    _decide(request, approval, approve, reason=request.POST.get("reason", "")[:500])
    return redirect("approvals:detail", approval_id=approval.pk)


def _decide(request, approval, approve, reason=""):
    """Record the person's decision, with how they last proved who they are, and tell them."""
    try:
        services.decide(approval, approve=approve, by=request.user, reason=reason, proof=freshness.proof(request))
    except AlreadyDecided as lost:
        messages.info(request, f"Nothing changed: this request was already {lost.status}.")
    else:
        messages.success(request, "Approved. It runs once, exactly as shown." if approve else "Denied.")


MAX_AMOUNT = 10**10 - 1  # what a DecimalField(max_digits=12, decimal_places=2) holds


@login_required
def reauth(request, approval_id):
    """Step-up before a high-risk approval: a passkey with user verification, or the password.
    Posted with `approve`, a successful step-up also completes the approval the person started."""
    approval = _own(request, approval_id)
    error = ""
    if request.method == "POST":
        checks = ratelimit.password_checks(request.user.get_username(), request.META.get("REMOTE_ADDR", ""))
        refused = throttled_page(request, *checks)  # the same buckets as signing in
        if refused:
            return refused
        method, error = _step_up(request)
        if not error:
            freshness.confirm(request, method)
            if "approve" in request.POST:
                _decide(request, approval, approve=True)
                return redirect("approvals:detail", approval_id=approval.pk)
            target = request.GET.get("next", "")
            if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                return redirect(target)
            return redirect("approvals:detail", approval_id=approval.pk)
    return render(
        request,
        "approvals/reauth.html",
        {"approval": approval, "error": error, "has_passkeys": request.user.passkeys.exists()},
    )


def _step_up(request):
    """(method, error): which proof the person gave, and why it failed ('' when it did not)."""
    if request.POST.get("passkey"):
        try:
            credential = ceremonies.assertion(json.loads(request.POST["passkey"]))
            ceremonies.authenticate(
                request, "confirm", credential, ceremonies.claimed_passkey(credential, user=request.user)
            )
        except (ValueError, ceremonies.Refused) as refused:
            return "passkey", f"Your passkey did not confirm it: {refused}"
        return "passkey", ""
    user = authenticate(request, username=request.user.get_username(), password=request.POST.get("password", ""))
    if user is None or user.pk != request.user.pk:
        return "password", "That is not your password."
    return "password", ""


@login_required
@require_POST
def set_policy(request, client_id):
    """Save the person's rule for one of this agent's critical scopes, from the agent page."""
    agent = Agent.objects.filter(Q(user=request.user) | Q(grants__user=request.user), client_id=client_id).first()
    if agent is None:
        raise Http404("No such agent.")
    mode, post = request.POST.get("mode", "always"), request.POST
    try:
        above = mode == "above"
        policies.set_person_policy(
            request.user,
            agent,
            post.get("scope", ""),
            mode=mode,
            limit=numbers.number(post.get("limit", ""), low=0, high=MAX_AMOUNT) if above else None,
            currency=post.get("currency", ""),
            budget=numbers.number(post["budget"], low=0, high=MAX_AMOUNT) if above and post.get("budget") else None,
            budget_hours=numbers.whole(post.get("budget_hours") or "24", low=1, high=24 * 31),
        )
    except ValueError as error:
        messages.error(request, f"Not saved: {error}")
    else:
        messages.success(request, "Saved: this is when the agent must ask you.")
    return redirect("portal:agent", client_id=client_id)
