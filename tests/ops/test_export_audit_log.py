"""The exported audit log re-checks on its own, with nothing but sha256 and JSON."""

import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command

from agentauth.audit import trail

pytestmark = pytest.mark.django_db(transaction=True)


def export(*args):
    out = io.StringIO()
    call_command("export_audit_log", *args, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return lines[:-1], lines[-1]


def rehash(prev_hash, fields):
    return hashlib.sha256((prev_hash + json.dumps(fields, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()


def test_every_exported_record_and_the_proof_recheck_outside_the_database():
    for number in range(5):
        trail.record("test.event", actor="pat", details={"n": number, "text": "ünïcode ✓", "amount": 1.5})
    records, proof = export("--format", "jsonl")

    previous = proof["first_prev_hash"]
    for record in records:
        assert record["prev_hash"] == previous and rehash(previous, record["fields"]) == record["hash"]
        previous = record["hash"]
    assert proof["records"] == len(records) >= 5
    assert proof["last_hash"] == proof["head_hash"] == previous


def test_since_exports_the_tail_linked_to_what_came_before():
    trail.record("test.old")
    cut = trail.record("test.new").at
    records, proof = export("--since", cut.isoformat())
    assert [record["fields"]["event"] for record in records] == ["test.new"]
    assert proof["first_prev_hash"] != trail.GENESIS  # it links to the record before the cut


def test_a_tampered_export_no_longer_rechecks():
    trail.record("test.event", details={"amount": 10})
    records, _ = export()
    records[-1]["fields"]["details"]["amount"] = 1000
    assert rehash(records[-1]["prev_hash"], records[-1]["fields"]) != records[-1]["hash"]


def test_a_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="--since"):
        export("--since", "last tuesday")
