"""Run the periodic sweeps once, now: expire overdue approvals, re-send stuck work, fold activity,
seal the audit log.

Beat runs these on a schedule; operators and fault drills run them on demand after an outage.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand

from agentauth.audit import trail
from agentauth.monitoring import activity
from approvals import services


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--stuck-after", type=float, default=30, help="seconds an approval may sit approved")

    def handle(self, *args, **options):
        expired = services.expire_overdue()
        requeued = services.requeue_stuck(older_than=timedelta(seconds=options["stuck_after"]))
        folded = activity.flush()
        sealed = trail.seal()
        self.stdout.write(
            f"expired {expired}, re-sent {requeued}, folded {folded} activity row(s), sealed {sealed} audit record(s)"
        )
