"""How monitoring tells the floors above (live delivery) that a rule fired."""

from django.dispatch import Signal

# alert=Alert
alert_raised = Signal()
