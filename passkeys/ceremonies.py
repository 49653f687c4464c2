"""The two WebAuthn ceremonies, registration and authentication, done by the `webauthn` library.

Each ceremony's challenge lives in the person's session, is used at most once and only for the
purpose it was made for (adding a passkey, signing in, or confirming a decision), and goes stale
after CHALLENGE_SECONDS. User verification is always required: a passkey stands in for a password,
so the device must check that its owner is present (PIN, fingerprint, face), not just a tap.
"""

import ipaddress
import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from agentauth.audit import trail

from .models import Passkey

CHALLENGE_SECONDS = 300
PURPOSES = ("register", "sign-in", "confirm")


class Refused(Exception):
    """The ceremony failed; the message is safe to show the person."""


def relying_party():
    """(RP ID, accepted origins). The issuer's host by default; an IP address cannot be an RP ID,
    so an issuer on 127.0.0.1 (the dev default) has its passkeys on localhost, same port."""
    issuer = urlsplit(settings.AGENTAUTH_ISSUER)
    rp_id, origins = settings.AGENTAUTH_PASSKEY_RP_ID, list(settings.AGENTAUTH_PASSKEY_ORIGINS)
    if not rp_id:
        rp_id = issuer.hostname or "localhost"
        try:
            ipaddress.ip_address(rp_id)
            rp_id = "localhost"
        except ValueError:
            pass
    if not origins:
        port = f":{issuer.port}" if issuer.port else ""
        origins = [f"{issuer.scheme}://{rp_id}{port}"]
    return rp_id, origins


def _remember(request, purpose, challenge):
    request.session[f"passkey:{purpose}"] = [bytes_to_base64url(challenge), int(time.time())]


def _recall(request, purpose):
    """The challenge issued for `purpose`, taken out of the session so it cannot be used twice."""
    value = request.session.pop(f"passkey:{purpose}", None)
    if not value or time.time() - value[1] > CHALLENGE_SECONDS:
        raise Refused("This passkey request is over or too old. Try again.")
    return base64url_to_bytes(value[0])


def _descriptor(passkey):
    transports = [AuthenticatorTransport(name) for name in passkey.transports]
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports or None)


def _user_handle(user):
    first = Passkey.objects.filter(user=user).values_list("user_handle", flat=True).first()
    return bytes(first) if first is not None else secrets.token_bytes(32)


def registration_options(request):
    user, rp_id = request.user, relying_party()[0]
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name="AgentAuth",
        user_id=_user_handle(user),
        user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in Passkey.objects.filter(user=request.user)],
    )
    _remember(request, "register", options.challenge)
    request.session["passkey:user_handle"] = bytes_to_base64url(options.user.id)
    return options_to_json(options)


def register(request, credential, name):
    """Check the new credential against the challenge we issued and keep its public key."""
    challenge = _recall(request, "register")
    rp_id, origins = relying_party()
    try:
        credential = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise Refused(f"The passkey could not be checked: {error}") from None
    with transaction.atomic():
        if Passkey.objects.filter(credential_id=verified.credential_id).exists():
            raise Refused("This passkey is already registered.")
        passkey = Passkey.objects.create(
            user=request.user,
            name=(name or "").strip()[:100] or "Passkey",
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            user_handle=base64url_to_bytes(request.session.pop("passkey:user_handle")),
            sign_count=verified.sign_count,
            transports=sorted({transport.value for transport in credential.response.transports or ()}),
            aaguid=verified.aaguid,
            backed_up=verified.credential_backed_up,
        )
        trail.record(
            "passkey.added",
            actor=request.user.get_username(),
            subject=request.user,
            details={"passkey": passkey.pk, "name": passkey.name, "backed_up": passkey.backed_up},
        )
    return passkey


def authentication_options(request, purpose, user=None):
    """Sign-in offers no list of credentials (the browser shows the person's passkeys for this
    site, so nobody learns whether an account has any); a signed-in confirmation lists theirs."""
    passkeys = Passkey.objects.filter(user=user) if user is not None else Passkey.objects.none()
    options = generate_authentication_options(
        rp_id=relying_party()[0],
        allow_credentials=[_descriptor(passkey) for passkey in passkeys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(request, purpose, options.challenge)
    return options_to_json(options)


def assertion(payload):
    """The browser's assertion JSON, parsed (nothing verified yet)."""
    try:
        return parse_authentication_credential_json(payload)
    except (WebAuthnException, ValueError, TypeError) as error:
        raise Refused(f"The passkey's answer is malformed: {error}") from None


def claimed_passkey(credential, user=None):
    """The stored passkey an assertion names by its raw id, or None."""
    found = Passkey.objects.select_related("user").filter(credential_id=bytes(credential.raw_id))
    return (found.filter(user=user) if user is not None else found).first()


def authenticate(request, purpose, credential, passkey):
    """Verify an assertion (see `assertion`) by `passkey` against the challenge issued for `purpose`."""
    challenge = _recall(request, purpose)
    if passkey is None:
        raise Refused("This passkey is not registered here.")
    handle = credential.response.user_handle
    if handle is not None and bytes(handle) != bytes(passkey.user_handle):
        raise Refused("This passkey belongs to someone else.")
    rp_id, origins = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise Refused(f"The passkey could not be checked: {error}") from None
    # A counter that went backwards (a cloned authenticator) was refused above; record the new one.
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, timezone.now()
    passkey.backed_up = verified.credential_backed_up
    passkey.save(update_fields=["sign_count", "last_used_at", "backed_up"])
    return passkey


def remove(user, passkey_id):
    with transaction.atomic():
        passkey = Passkey.objects.filter(user=user, pk=passkey_id).first()
        if passkey is None:
            return None
        passkey.delete()
        trail.record(
            "passkey.removed",
            actor=user.get_username(),
            subject=user,
            details={"passkey": passkey_id, "name": passkey.name},
        )
    return passkey
