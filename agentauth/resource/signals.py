"""How a resource API tells monitoring about each call, without importing it."""

from django.dispatch import Signal

# client_id, subject, outcome ("calls", "refused", "insufficient_scope"), ip, user_agent, scopes
api_called = Signal()


def announce_call(request, client_id, subject, outcome, scopes=()):
    api_called.send(
        announce_call,
        client_id=client_id,
        subject=subject,
        outcome=outcome,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        scopes=scopes,
    )
