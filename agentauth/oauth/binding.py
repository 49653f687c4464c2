"""RFC 9449 at the token endpoint: which key a token request binds its tokens to."""

import json

from django.conf import settings

from agentauth.identity import dpop

from .protocol import authenticated_agent, invalid_client, oauth_error


def token_request_key(request):
    """RFC 9449 §5: (the key the tokens will be bound to, or None; a refusal, or None)."""
    proof = request.headers.get("DPoP")
    if proof is None:
        return None, None  # an agent registered for DPoP is refused once it has authenticated
    try:
        return dpop.verify(proof, method="POST", url=settings.AGENTAUTH_ISSUER + request.path).jkt, None
    except dpop.NonceRequired as refusal:
        return None, oauth_error(refusal.error, refusal.description, headers={"DPoP-Nonce": dpop.new_nonce()})
    except dpop.ProofError as refusal:
        return None, oauth_error(refusal.error, refusal.description)
    except dpop.ReplayCacheUnavailable:
        return None, oauth_error("temporarily_unavailable", status=503)


PROOF_REQUIRED = "This agent must send a DPoP proof."


def unbound_request_refused(agent):
    """RFC 9449 §5.2: an agent registered with dpop_bound_access_tokens gets no Bearer token.
    Checked after client authentication, so nobody learns this of an agent they cannot be."""
    return agent.dpop_bound_access_tokens and dpop.bound_key() is None


def token_client(request):
    """For the grants apps above add: (the agent the request authenticates as, or None; the
    refusal to answer with, or None)."""
    agent = authenticated_agent(request)
    if agent is None:
        return None, invalid_client()
    if unbound_request_refused(agent):
        return None, oauth_error("invalid_dpop_proof", PROOF_REQUIRED)
    return agent, None


def bound_token_type(response, jkt):
    """A bound token is announced as `token_type: DPoP` (RFC 9449 §5)."""
    if jkt and response.status_code == 200:
        body = json.loads(response.content)
        body["token_type"] = "DPoP"
        response.content = json.dumps(body)
    return response
