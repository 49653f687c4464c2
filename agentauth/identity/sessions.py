"""Browser sessions, kept in the database exactly as django.contrib.sessions' `db` engine keeps
them, but read by a query compiled once (lib.selects): every signed-in request and every socket
reads its session, and building that QuerySet cost more CPU than PostgreSQL spent answering it.

Not a cached engine: "sign out everywhere" deletes the Session rows, and a cached copy would
outlive them.
"""

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from agentauth.lib.selects import Param, Select

_live = Select(lambda: Session.objects.filter(session_key=Param("key"), expire_date__gt=Param("now")))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # Values reach the driver as given, so the time goes in the form the column stores.
        ops = connections[router.db_for_read(Session)].ops
        found = _live.one(key=self.session_key, now=ops.adapt_datetimefield_value(timezone.now()))
        if found is None:
            self._session_key = None  # as the db engine: an unknown or expired key starts afresh
        return found

    async def _aget_session_from_db(self):
        return await sync_to_async(self._get_session_from_db)()
