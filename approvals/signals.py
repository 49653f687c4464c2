"""How approvals tell the floors above (live delivery) that an approval changed."""

from django.dispatch import Signal

# approval=ApprovalRequest, event="approval.created" | "approval.updated" | None (a change the
# person's screens do not show, such as an automatic approval). Sent inside the transaction that
# made the change; receivers act on commit.
approval_changed = Signal()
