"""Approval use cases: the only code that moves an approval from one state to another.

Each runs in one transaction with its side effects (pushes, e-mail, execution) sent after commit,
so a rolled-back change is never announced and an announced change is never lost.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentauth.audit import trail
from agentauth.consent import grants
from agentauth.identity import rar
from agentauth.lib import logs

from . import actions, lookups, signals
from .models import AlreadyDecided, ApprovalRequest, canonical_hash


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different action or different parameters."""


def request_approval(
    *, user, agent, action, params, idempotency_key="", token_jti="", source="api", ttl=None, notification_token=""
):
    """Open an approval for exactly this action and these params; returns (approval, created).

    When the action's policy does not ask the person, it is approved automatically (and recorded
    as such); the caller may then redeem it at once.
    """
    params_hash = canonical_hash(action.name, params)
    existing = _same_request(agent, user, idempotency_key, params_hash)
    if existing is not None:
        return existing, False
    scope = action.scope_for(params)
    amount, currency = action.amount(params) or (None, "")
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                user=user,
                agent=agent,
                scope=scope,
                action=action.name,
                params=params,
                params_hash=params_hash,
                authorization_details=action.authorization_details(params),
                binding_message=action.binding_message(params)[:100],
                idempotency_key=idempotency_key,
                token_jti=token_jti,
                source=source,
                notification_token=notification_token,
                risk=action.risk(params),
                amount=amount,
                currency=currency,
                expires_at=timezone.now() + (ttl or settings.APPROVAL_TTL),
            )
            _audit("approval.requested", approval, actor_type="agent", actor=agent.client_id)
            logs.note(approval_id=approval.pk)
            if action.needs_person(user, agent, params):
                _announce(approval, "approval.created")
            else:
                approval.approve(by=None, automatic=True)
                _audit("approval.approved", approval, details={"automatic": True})
                _announce(approval, None)
    except IntegrityError:
        # The same Idempotency-Key raced in from a retry: the other request created it.
        existing = _same_request(agent, user, idempotency_key, params_hash)
        if existing is None:
            raise
        return existing, False
    return approval, True


def _same_request(agent, user, idempotency_key, params_hash):
    """The approval an earlier try with this Idempotency-Key opened; a different request under the
    same key raises IdempotencyConflict."""
    if not idempotency_key:
        return None
    existing = lookups.by_idempotency_key.one(agent=agent.pk, user=user.pk, key=idempotency_key)
    if existing is not None and existing.params_hash != params_hash:
        raise IdempotencyConflict(existing.pk)
    return existing


def _audit(event, approval, *, outcome="success", actor_type="system", actor="", details=None):
    trail.record(
        event,
        outcome=outcome,
        actor_type=actor_type,
        actor=actor,
        subject=approval.user,
        agent=approval.agent,
        scope=approval.scope,
        details={"approval_id": approval.pk, "action": approval.action, "params_hash": approval.params_hash}
        | (details or {}),
    )


def _announce(approval, event):
    """Tell the floors above (live delivery, the executor) of the change; they act on commit."""
    signals.approval_changed.send(ApprovalRequest, approval=approval, event=event)


@transaction.atomic
def decide(approval, *, approve, by, reason="", proof=None):
    """Record the person's verdict, and `proof` of who they are (when and how they last signed in
    or stepped up). Raises AlreadyDecided if someone, or the clock, won the race."""
    if by.pk != approval.user_id:
        raise PermissionError("Only the person an approval belongs to can decide it.")
    if approve:
        approval.approve(by=by)
    else:
        approval.deny(by=by, reason=reason)
    _audit(f"approval.{approval.status}", approval, actor_type="person", actor=by.get_username(), details=proof)
    _announce(approval, "approval.updated")
    return approval


@transaction.atomic
def expire(approval):
    try:
        approval.expire()
    except AlreadyDecided:
        return False  # decided while the sweep ran: nothing to announce
    _audit("approval.expired", approval)
    _announce(approval, "approval.updated")
    return True


def expire_overdue():
    return sum(expire(approval) for approval in ApprovalRequest.objects.overdue().select_related("agent"))


@transaction.atomic
def cancel(approval, reason):
    try:
        approval.cancel(reason)
    except AlreadyDecided:
        return False
    _audit("approval.cancelled", approval, details={"reason": reason})
    _announce(approval, "approval.updated")
    return True


def cancel_pending(*, agent, user=None, scopes=None, reason):
    """Cancel what an agent is still waiting for, e.g. when its consent or the agent is revoked."""
    pending = ApprovalRequest.objects.pending().filter(agent=agent).select_related("agent")
    if user is not None:
        pending = pending.filter(user=user)
    if scopes is not None:
        pending = pending.filter(scope__in=scopes)
    return sum(cancel(approval, reason) for approval in pending)


class Mismatch(Exception):
    """A CIBA token was used for something other than what its person approved."""


def redeem(approval_id):
    """Run an approved action exactly once: what the person approved, or their policy did.
    Returns (approval, ran); redeeming again finds it no longer approved and runs nothing."""
    with transaction.atomic():
        approval = lookups.with_people(lookups.locked_approval.get(pk=approval_id))
        return _run_once(approval, actions.get(approval.action), approval.params)


def redeem_token(jti, action, params):
    """A CIBA token presents itself at an API: run `action` with `params` once, if they are covered
    by what its person approved (else Mismatch, and the token stays good for the right one)."""
    with transaction.atomic():
        # Only the approval row is locked (`of=self`), as in lookups.locked_approval.
        locked = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("agent", "user")
        approval = locked.filter(token_jti=jti, source="ciba").first()
        if approval is None or not rar.covers(approval.authorization_details, action.authorization_details(params)):
            raise Mismatch(jti)
        return _run_once(approval, action, params, via="ciba token")


def _run_once(approval, action, params, via=None):
    """The one path that executes an approval. The row lock, the status check (a compare-and-swap
    from approved) and the action's own writes commit together, so a crash rolls all of it back
    and a redelivery starts clean."""
    if approval.status != ApprovalRequest.Status.APPROVED:
        return approval, False  # already run, or never approved
    if settings.APPROVAL_EXECUTION_DELAY:
        time.sleep(settings.APPROVAL_EXECUTION_DELAY)  # fault drills only: a window to kill the worker
    problem = _why_not_runnable(approval, action)
    if problem:
        approval.finish(failure=problem)
    else:
        try:
            with transaction.atomic():
                result = action.run(approval, params)
        except actions.ActionFailed as error:
            approval.finish(failure=str(error))
        else:
            approval.finish(result=result)
    _audit(
        f"approval.{approval.status}",
        approval,
        outcome="success" if approval.status == ApprovalRequest.Status.EXECUTED else "failure",
        details={"result": approval.result, "reason": approval.reason} | ({"via": via} if via else {}),
    )
    _announce(approval, "approval.updated")
    return approval, True


@transaction.atomic
def hand_out_token(approval, jti):
    """CIBA: an approved request's one token was issued; from now on only that token redeems it."""
    approval.hand_out_token(jti)
    _audit("approval.token_issued", approval)


def _why_not_runnable(approval, action):
    if action is None:
        return f"Unknown action {approval.action!r}."
    if not approval.agent.is_active or not approval.user.is_active:
        return "The agent or the person's account was switched off before the action ran."
    # Consent is checked again at run time: revoking after the approval still stops it (AP-06).
    # A CIBA approval is its own consent, given for this one request.
    if approval.source != "ciba" and approval.scope not in grants.effective_scopes(
        approval.user, approval.agent, [approval.scope]
    ):
        return "Consent for this action was withdrawn before it ran."
    return None


def requeue_stuck(older_than=None):
    """Approved work that never reached a worker (Redis was down, the message was lost) is
    announced again from the database; execute() makes the repeat harmless."""
    if older_than is None:
        older_than = timedelta(seconds=settings.AGENTAUTH_STUCK_SECONDS)
    stuck = list(ApprovalRequest.objects.stuck(older_than)[:500])
    for approval in stuck:
        _announce(approval, None)
    return len(stuck)
