"""RFC 9449 at the token endpoint: which key a token request binds its tokens to."""

import json

from django.conf import settings

from agentauth.identity import dpop
from agentauth.identity.models import Agent

from .protocol import claimed_client_id, oauth_error


def token_request_key(request):
    """RFC 9449 §5: (the key the tokens will be bound to, or None; a refusal, or None)."""
    proof = request.headers.get("DPoP")
    if proof is None:
        agent = Agent.objects.filter(client_id=claimed_client_id(request)).only("dpop_bound_access_tokens").first()
        if agent is not None and agent.dpop_bound_access_tokens:
            return None, oauth_error("invalid_dpop_proof", "This agent must send a DPoP proof.")
        return None, None
    try:
        return dpop.verify(proof, method="POST", url=settings.AGENTAUTH_ISSUER + request.path).jkt, None
    except dpop.NonceRequired as refusal:
        return None, oauth_error(refusal.error, refusal.description, headers={"DPoP-Nonce": dpop.new_nonce()})
    except dpop.ProofError as refusal:
        return None, oauth_error(refusal.error, refusal.description)
    except dpop.ReplayCacheUnavailable:
        return None, oauth_error("temporarily_unavailable", status=503)


def bound_token_type(response, jkt):
    """A bound token is announced as `token_type: DPoP` (RFC 9449 §5)."""
    if jkt and response.status_code == 200:
        body = json.loads(response.content)
        body["token_type"] = "DPoP"
        response.content = json.dumps(body)
    return response
