"""Telling people and agents: e-mail with a link (a GET never decides), and signed callbacks."""

import logging
import time
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from jwcrypto import jwt

from agentauth.identity import keys
from agentauth.lib import metrics, outbound
from agentauth.monitoring.models import Alert
from approvals import lookups
from approvals.cards import asked_by
from approvals.models import ApprovalRequest

from . import push

log = logging.getLogger(__name__)


def notify_person(approval_id, last_try=False):
    """A new approval reaches its person: a push to each browser they subscribed, else (none, or
    none took it by the last try) an e-mail. A push that may still pass raises OSError: retried."""
    approval = lookups.with_people(lookups.approval.get(pk=approval_id))
    if approval.effective_status != ApprovalRequest.Status.PENDING:
        return
    if approval.user.push_subscriptions.exists():
        try:
            if push.deliver(approval):
                return
        except OSError:
            if not last_try:
                raise
            log.warning("push to %s failed on every try; e-mailing instead", approval.user_id)
    email_person(approval)


def email_person(approval):
    if not approval.user.email:
        return
    link = settings.AGENTAUTH_ISSUER + reverse("approvals:detail", args=[approval.pk])
    send_mail(
        subject=f"Approve? {approval.describe()}"[:150],
        message=(
            f"{asked_by(approval)} asks to: {approval.describe()}\n\n"
            + "".join(f"{label}: {value}\n" for label, value in approval.facts())
            + (f"Code shown by the agent: {approval.binding_message}\n" if approval.binding_message else "")
            + f"Risk: {approval.risk}\n\n"
            f"Open this page to approve or deny it (it expires at {approval.expires_at:%H:%M UTC}):\n{link}\n\n"
            "Nothing happens until you decide on that page. If you did not expect this, deny it."
        ),
        from_email=None,
        recipient_list=[approval.user.email],
    )
    metrics.DELIVERIES.labels(channel="email", outcome="delivered").inc()


def email_alert(alert_id):
    alert = Alert.objects.select_related("user", "agent").get(pk=alert_id)
    if not alert.user or not alert.user.email:
        return
    suspended = "\nThe agent was suspended automatically; resume it on its page if this was expected.\n"
    send_mail(
        subject=f"[{alert.severity}] {alert.summary}"[:150],
        message=(
            f"{alert.summary}\n{suspended if alert.agent_suspended else ''}\n"
            f"Review it: {settings.AGENTAUTH_ISSUER}{reverse('portal:alerts')}\n"
        ),
        from_email=None,
        recipient_list=[alert.user.email],
    )


def _send(what, uri, **kwargs):
    """POST through the outbound guard; a refused address is logged, not retried."""
    channel = "callback" if what == "callback" else "ciba_ping"
    try:
        response = outbound.post(uri, **kwargs)
    except outbound.Refused as refused:
        log.warning("%s refused: %s", what, refused)
        metrics.DELIVERIES.labels(channel=channel, outcome="refused").inc()
        return None
    except OSError:
        metrics.DELIVERIES.labels(channel=channel, outcome="failed").inc()
        raise
    metrics.DELIVERIES.labels(channel=channel, outcome="delivered" if response.ok else "failed").inc()
    return response


def signed_decision(approval):
    """A JWT the agent verifies against our JWKS: it cannot be forged by whoever sees the URL."""
    kid, key = keys.signing_key()
    now = int(time.time())
    claims = {
        "iss": settings.AGENTAUTH_ISSUER,
        "aud": approval.agent.client_id,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "approval_id": approval.pk,
        "status": approval.effective_status,
        "reason": approval.reason,
        "result": approval.result,
    }
    token = jwt.JWT(header={"alg": "ES256", "typ": "approval+jwt", "kid": kid}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def ping_ciba_client(approval_id):
    """CIBA §10.2: POST {"auth_req_id"} to the client's notification endpoint with its bearer token."""
    approval = ApprovalRequest.objects.select_related("agent").get(pk=approval_id)
    uri = approval.agent.ciba_notification_endpoint
    if not uri:
        return
    response = _send(
        "CIBA ping",
        uri,
        json={"auth_req_id": approval.pk},
        headers={"Authorization": f"Bearer {approval.notification_token}"},
    )
    if response is not None and (response.status_code >= 500 or response.status_code == 429):
        raise OSError(f"ping answered {response.status_code}")  # retried with backoff


def has_word_for_its_agent(approval):
    """Whether its agent is to be called back now: this is the final word (denied, executed, ...;
    not approved), and the agent registered a callback_uri."""
    return approval.is_final and bool(approval.agent.callback_uri)


def call_back_agent(approval_id):
    approval = ApprovalRequest.objects.select_related("agent").get(pk=approval_id)
    if not has_word_for_its_agent(approval):
        return
    uri = approval.agent.callback_uri
    response = _send("callback", uri, data=signed_decision(approval), headers={"Content-Type": "application/jwt"})
    if response is not None and response.status_code >= 500:
        raise OSError(f"callback answered {response.status_code}")  # retried with backoff
