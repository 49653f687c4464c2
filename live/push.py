"""Web Push to a person's phone and other browsers: RFC 8030 delivery, RFC 8291 message
encryption and RFC 8292 VAPID, all by pywebpush; the connection goes through the outbound guard.

Each new approval is pushed to every browser the person subscribed, encrypted for that browser,
`Urgency: high`, living until the approval expires. The notification carries what the person
must know to decide (agent, action, amount, payee) and a link; it never decides by itself.
"""

import base64
import hashlib
import json
import logging
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from agentauth.lib import metrics, outbound
from approvals.cards import asked_by

from .models import PushSubscription

log = logging.getLogger(__name__)

B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
GONE = (404, 410)  # RFC 8030 §7.3: the subscription no longer exists
MAX_SUBSCRIPTIONS = 20


class InvalidSubscription(ValueError):
    """Not a PushSubscription this server will send to; the message says why."""


def vapid():
    """The server's VAPID key (RFC 8292). Production sets AGENTAUTH_VAPID_PRIVATE_KEY (the deploy
    check requires it); development derives a stable one from SECRET_KEY."""
    if settings.AGENTAUTH_VAPID_PRIVATE_KEY:
        return Vapid02.from_string(settings.AGENTAUTH_VAPID_PRIVATE_KEY)
    seed = hashlib.sha256(b"agentauth-vapid:" + settings.SECRET_KEY.encode()).digest()
    return Vapid02(private_key=ec.derive_private_key(int.from_bytes(seed) % (2**255), ec.SECP256R1()))


def application_server_key():
    """The VAPID public key as browsers take it (`applicationServerKey`): base64url, uncompressed."""
    raw = vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def endpoint_allowed(endpoint):
    """https on a known push service; with DEBUG, a push service on this machine too (tests)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if settings.DEBUG and host in ("127.0.0.1", "localhost") and parts.scheme in ("http", "https"):
        return True
    known = any(host == name or host.endswith("." + name) for name in settings.AGENTAUTH_PUSH_SERVICES)
    return parts.scheme == "https" and known


def _key(value, size):
    """A base64url key of exactly `size` bytes, as the browser sends it."""
    if not isinstance(value, str) or not B64URL.fullmatch(value):
        raise InvalidSubscription("keys must be base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise InvalidSubscription("keys must be base64url") from None
    if len(raw) != size:
        raise InvalidSubscription(f"expected a {size}-byte key")
    return value.rstrip("=")


def subscribe(user, subscription, device=""):
    """Store the browser's PushSubscription JSON for this person; returns (subscription, created)."""
    if not isinstance(subscription, dict) or not isinstance(subscription.get("keys"), dict):
        raise InvalidSubscription("expected the PushSubscription JSON: endpoint and keys")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not endpoint_allowed(endpoint):
        raise InvalidSubscription("endpoint must be https on a known push service")
    p256dh, auth = _key(subscription["keys"].get("p256dh"), 65), _key(subscription["keys"].get("auth"), 16)
    if PushSubscription.objects.filter(user=user).count() >= MAX_SUBSCRIPTIONS:
        raise InvalidSubscription(f"at most {MAX_SUBSCRIPTIONS} devices; remove one first")
    # An endpoint belongs to one browser: whoever subscribes it last is who it reaches.
    return PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "device": device[:200]}
    )


def message(approval):
    """What the notification says, and where it leads (absolute, from the issuer)."""
    return {
        "approval_id": approval.pk,
        "title": f"{asked_by(approval)} asks you to approve",
        "body": approval.describe(),
        "url": settings.AGENTAUTH_ISSUER + reverse("approvals:detail", args=[approval.pk]),
        "risk": approval.risk,
        "binding_message": approval.binding_message,
        # High-risk approvals always open the page (step-up happens there); others may be approved.
        "actions": ["review", "deny"] + ([] if approval.risk == "high" else ["approve"]),
    }


def deliver(approval):
    """Push the approval to each of the person's browsers; returns how many took it. Raises OSError
    when none did and at least one failure may pass (the task retries, then e-mails)."""
    subscriptions = list(PushSubscription.objects.filter(user_id=approval.user_id))
    data = json.dumps(message(approval))
    ttl = max(int((approval.expires_at - timezone.now()).total_seconds()), 0)
    delivered, transient = 0, []
    for subscription in subscriptions:
        try:
            _send(subscription, data, ttl)
        except WebPushException as failure:
            status = getattr(failure.response, "status_code", None)
            if status in GONE:
                subscription.delete()
                metrics.DELIVERIES.labels(channel="push", outcome="gone").inc()
            else:
                transient.append(f"{subscription.pk}: {status or failure}")
                metrics.DELIVERIES.labels(channel="push", outcome="failed").inc()
        except (OSError, outbound.Refused) as failure:
            transient.append(f"{subscription.pk}: {failure}")
            metrics.DELIVERIES.labels(channel="push", outcome="failed").inc()
        else:
            delivered += 1
            metrics.DELIVERIES.labels(channel="push", outcome="delivered").inc()
            PushSubscription.objects.filter(pk=subscription.pk).update(last_delivered_at=timezone.now())
    if not delivered and transient:
        raise OSError(f"push not delivered: {'; '.join(transient)[:500]}")
    return delivered


def _send(subscription, data, ttl):
    if not endpoint_allowed(subscription.endpoint):
        raise outbound.Refused("not a push service")
    with outbound.session(subscription.endpoint) as session:
        webpush(
            subscription.as_subscription_info(),
            data=data,
            vapid_private_key=vapid(),
            vapid_claims={"sub": settings.AGENTAUTH_VAPID_SUBJECT},
            ttl=ttl,
            headers={"Urgency": "high"},
            timeout=5,
            requests_session=session,
        )
