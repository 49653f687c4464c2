"""When and how the person last proved who they are in this session (AP-09).

High-risk approvals and adding a passkey need a proof no older than APPROVAL_REAUTH_SECONDS; the
decision's audit record says which proof it was.
"""

import time

from django.conf import settings


def confirm(request, method):
    """The person just proved who they are: 'password' or 'passkey'."""
    request.session["auth_time"] = int(time.time())
    request.session["auth_method"] = method


def is_fresh(request):
    return time.time() - request.session.get("auth_time", 0) <= settings.APPROVAL_REAUTH_SECONDS


def proof(request):
    return {"auth_time": request.session.get("auth_time"), "auth_method": request.session.get("auth_method")}
