"""Scenario 2's micro-benchmark: AgentAuth's API authentication step alone, in process.

Reads one access token on stdin, times `JWTAuthentication.authenticate` on a prepared DRF request
(signature, claims, revocation list) and the revocation check alone, counts database queries
across the timed calls, and times the step's floor on this machine: a bare ES256 verification
(cryptography) plus a bare Redis GET (redis-py), the two costs no implementation can avoid.
Then the same step for a DPoP-bound token of the same agent (RFC 9449): each call carries a
fresh proof (signed beforehand: signing is the agent's cost), so it adds a second signature
check and one Redis SET NX against replays.
Prints JSON. Run as `python -m bench.inprocess.auth_step` with AgentAuth's environment.
"""

import json
import statistics
import sys
import time

import django

WARMUP = 200
ITERATIONS = 3000
# The floor on the machine the issue was measured on: ES256 verification ~100 µs, a Redis round trip ~45 µs.
REFERENCE_FLOOR_US = 145


def _timed(call, iterations):
    """Microseconds per call: the mean, the median and the 99th percentile of single calls."""
    samples = []
    for _ in range(iterations):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "mean_us": statistics.fmean(samples),
        "p50_us": samples[len(samples) // 2],
        "p99_us": samples[int(len(samples) * 0.99)],
    }


def main():
    raw_token = sys.stdin.read().strip()
    django.setup()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from agentauth.identity import revocation
    from agentauth.resource.authentication import JWTAuthentication

    request = Request(APIRequestFactory().get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {raw_token}"))
    authentication = JWTAuthentication()
    _, claims = authentication.authenticate(request)  # loads the key set once, as a server's first call does

    def authenticate():
        authentication.authenticate(request)

    def revocation_check():
        revocation.is_revoked(claims.jti, [claims.client_id])

    _timed(authenticate, WARMUP)
    with CaptureQueriesContext(connection) as queries:
        whole = _timed(authenticate, ITERATIONS)
        revoked = _timed(revocation_check, ITERATIONS)
    bound = _dpop_step(claims)
    verify, get = _floor()
    floor = {
        "p50_us": verify["p50_us"] + get["p50_us"],
        "verify_p50_us": verify["p50_us"],
        "redis_p50_us": get["p50_us"],
    }
    result = {
        "authenticate": whole,
        "revocation_check": revoked,
        "floor": floor,
        "reference_floor_us": REFERENCE_FLOOR_US,
        "dpop_authenticate": bound,
        "queries": len(queries.captured_queries),
        "iterations": ITERATIONS,
    }
    print(json.dumps(result))


def _dpop_step(claims):
    """The authentication step for a DPoP-bound token, a fresh proof per call."""
    import uuid

    import jwt
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from jwcrypto import jwk
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from agentauth.identity import dpop, tokens
    from agentauth.identity.models import Agent
    from agentauth.resource.authentication import JWTAuthentication

    key = jwk.JWK.generate(kty="EC", crv="P-256")
    public, private = key.export_public(as_dict=True), key.export_to_pem(private_key=True, password=None)
    with dpop.binding(dpop.thumbprint(public)):
        raw, _ = tokens.issue(
            user=get_user_model().objects.get(pk=claims.subject),
            agent=Agent.objects.get(client_id=claims.client_id),
            scopes=sorted(claims.scopes),
            grant_type="bench",
        )
    host = next((name for name in settings.ALLOWED_HOSTS if name not in ("*", "")), "localhost").lstrip(".")
    url = f"http://{host}/api/v1/documents/"
    ath = dpop.access_token_hash(raw)

    def request():
        proof_claims = {"htm": "GET", "htu": url, "iat": int(time.time()), "jti": uuid.uuid4().hex, "ath": ath}
        proof = jwt.encode(proof_claims, private, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": public})
        factory = APIRequestFactory(HTTP_HOST=host)
        return Request(factory.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"DPoP {raw}", HTTP_DPOP=proof))

    prepared = [request() for _ in range(WARMUP + ITERATIONS)]
    authentication, calls = JWTAuthentication(), iter(prepared)
    return _timed(lambda: authentication.authenticate(next(calls)), WARMUP + ITERATIONS)


def _floor():
    """A bare ES256 verification and a bare Redis GET, timed like the step."""
    import redis
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings

    key = ec.generate_private_key(ec.SECP256R1())
    message = b"header.claims" * 20
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.get("bench:floor")
    verify = _timed(lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())), ITERATIONS)
    get = _timed(lambda: client.get("bench:floor"), ITERATIONS)
    return verify, get


if __name__ == "__main__":
    main()
