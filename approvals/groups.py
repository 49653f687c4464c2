"""Channel group names: live delivery pushes to them, the agent's long-poll waits on them."""


def person_group(user_id):
    return f"approvals.user.{int(user_id)}"


def approval_group(approval_id):
    # Approval ids are URL-safe base64; group names allow ASCII letters, digits, '-', '_' and '.'.
    return f"approvals.request.{approval_id}"
