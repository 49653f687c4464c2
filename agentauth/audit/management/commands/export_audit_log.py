"""Export the audit log as JSON lines with its chain proof, for retention outside the database.

Each line is one record: `seq`, `prev_hash`, `hash` and the exact `fields` that were hashed, so
anyone can re-check it: hash = sha256(prev_hash + JSON of fields with sorted keys and no spaces).
The last line is the proof: the first record's prev_hash (the link to what came before the
export), the last hash, and the chain head when exported (equal when nothing was cut off the end).
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from agentauth.audit import trail
from agentauth.audit.models import AuditEvent, AuditHead


def _moment(text):
    moment = parse_datetime(text)
    if moment is None and (day := parse_date(text)) is not None:
        moment = datetime.datetime.combine(day, datetime.time.min)
    if moment is None:
        raise CommandError(f"--since {text!r}: use a date (2026-12-01) or an ISO 8601 time")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, datetime.UTC)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--since", help="the first day or moment to export (default: from the start)")
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument("--output", help="a file to write (default: standard output)")

    def handle(self, *args, **options):
        trail.seal()
        records = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
        if options["since"]:
            records = records.filter(at__gte=_moment(options["since"]))
        out = open(options["output"], "w") if options["output"] else self.stdout  # noqa: SIM115
        first, last, count = None, None, 0
        try:
            for record in records.iterator(chunk_size=2000):
                line = {"seq": record.seq, "prev_hash": record.prev_hash, "hash": record.hash}
                out.write(json.dumps(line | {"fields": trail.chained_fields(record)}) + "\n")
                first, last, count = first or record, record, count + 1
            head = AuditHead.objects.filter(pk=1).first()
            proof = {
                "proof": "sha256 chain",
                "records": count,
                "first_seq": first.seq if first else None,
                "first_prev_hash": first.prev_hash if first else None,
                "last_hash": last.hash if last else None,
                "head_seq": head.last_seq if head else 0,
                "head_hash": head.last_hash if head else trail.GENESIS,
            }
            out.write(json.dumps(proof) + "\n")
        finally:
            if out is not self.stdout:
                out.close()
        if options["output"]:
            self.stderr.write(f"Exported {count} record(s) to {options['output']}.")
