"""Create the bench's people, their agents (through `manage.py register_agent`) and documents; print
the agents' credentials as JSON. Run as `python -m bench.inprocess.fixture` with AgentAuth's environment."""

import argparse
import io
import json

import django

BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "  # the same text as the DOT baseline's


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--documents", type=int, default=10)
    parser.add_argument("--body-length", type=int, default=300)
    options = parser.parse_args()
    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from examples.models import Document

    body = (BODY * (options.body_length // len(BODY) + 1))[: options.body_length]
    credentials = []
    for index in range(options.clients):
        person = get_user_model().objects.create_user(f"bench-person-{index}")
        out = io.StringIO()
        call_command(
            "register_agent",
            "--owner", person.username,
            "--name", f"Bench agent {index}",
            "--grant-type", "client_credentials",
            "--scope", "documents:read documents:write",
            stdout=out,
        )  # fmt: skip
        registered = json.loads(out.getvalue())
        Document.objects.bulk_create(
            Document(owner=person, title=f"Document {number}", body=body) for number in range(options.documents)
        )
        credentials.append({"client_id": registered["client_id"], "client_secret": registered["client_secret"]})
    print(json.dumps(credentials))


if __name__ == "__main__":
    main()
