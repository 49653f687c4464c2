"""Channel group names: live delivery pushes to them, the agent's long-poll waits on them."""

import re

# What an approval id can be (URL-safe base64, at most the column's 64): anything else is no
# approval, and no group name either.
APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def person_group(user_id):
    return f"approvals.user.{int(user_id)}"


def approval_group(approval_id):
    # Approval ids are URL-safe base64; group names allow ASCII letters, digits, '-', '_' and '.'.
    return f"approvals.request.{approval_id}"
