"""How the portal tells live delivery that browser sessions ended."""

from django.dispatch import Signal

# user=User, session_keys=[str]: browser sessions ended by "sign out everywhere"
sessions_ended = Signal()
