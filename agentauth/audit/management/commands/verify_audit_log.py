"""Check the audit log's hash chain; exit non-zero naming the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from agentauth.audit import trail


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        checked, broken = trail.verify()
        if broken is not None:
            raise CommandError(
                f"Audit log broken at record {broken.pk} ({broken}), after {checked} intact record(s). "
                "Every record from there on is untrustworthy."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {checked} record(s) chained."))
