"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document), as MCP clients
use them: a client_id that is an https URL names a JSON document describing the client.

django-oauth-toolkit does the protocol (CIMD_ENABLED): recognising such a client_id, checking the
document (its client_id equals the URL, no secrets, public, redirect URIs), caching it as an
Agent row until its Cache-Control says otherwise, and backing off after a failure. This module
is the part that is ours: the fetch goes through the one outbound guard (no private addresses, no
redirects, size and time limits), and a failure is remembered with its reason, so the person and
the agent are told why rather than "unknown client".
"""

import hashlib
import re

from django.core.cache import cache
from oauth2_provider.cimd import CIMDError, is_cimd_client_id
from oauth2_provider.settings import oauth2_settings
from requests import RequestException

from agentauth.lib import outbound

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


def _reason_key(client_id):
    return "agentauth:cimd-failure:" + hashlib.sha256(client_id.encode()).hexdigest()


def failure(client_id):
    """Why the document at `client_id` could not be used lately, or None."""
    if not isinstance(client_id, str) or not is_cimd_client_id(client_id):
        return None
    return cache.get(_reason_key(client_id))


def _max_age(cache_control):
    """Cache-Control max-age, within DOT's floor and ceiling (no-store means the floor)."""
    floor, ceiling = oauth2_settings.CIMD_METADATA_MIN_AGE_SECONDS, oauth2_settings.CIMD_METADATA_MAX_AGE_SECONDS
    match = _MAX_AGE.search(cache_control or "")
    return min(max(int(match.group(1)) if match else floor, floor), ceiling)


class GuardedFetcher:
    """DOT's CIMD_METADATA_FETCHER: returns (document, seconds to keep it) or raises CIMDError."""

    def fetch(self, client_id):
        try:
            document, headers = outbound.fetch_json(
                client_id,
                max_bytes=oauth2_settings.CIMD_MAX_DOCUMENT_SIZE,
                timeout=oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS,
            )
        except outbound.Refused as refused:
            reason = f"this server does not fetch from that address ({refused})"
        except RequestException as error:
            reason = f"fetching it failed: {type(error).__name__}"
            if "timed out" in str(error).lower() or "Timeout" in type(error).__name__:
                reason = "fetching it timed out"
        except ValueError as error:
            reason = f"it is not a usable JSON document ({error})"
        else:
            problem = _problem(client_id, document)
            if problem is None:
                cache.delete(_reason_key(client_id))
                return document, _max_age(headers.get("Cache-Control"))
            reason = problem
        cache.set(_reason_key(client_id), reason[:300], oauth2_settings.CIMD_FAILURE_BACKOFF_SECONDS)
        raise CIMDError(reason)


def _problem(client_id, document):
    """What DOT would refuse in the document, said in words (DOT refuses it again after us)."""
    if document.get("client_id") != client_id:
        return "its client_id is not the URL it was fetched from"
    if document.get("token_endpoint_auth_method", "none") != "none" or "client_secret" in document:
        return "a metadata-document client must be public (token_endpoint_auth_method none, no secret)"
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) for uri in uris):
        return "it lists no redirect_uris"
    return None
