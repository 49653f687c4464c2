"""How consent tells the floors above (approvals, live delivery) that it changed."""

from django.dispatch import Signal

# grant=Grant, removed=[scope names]
grant_narrowed = Signal()
# user=User, agent=Agent
grant_revoked = Signal()
