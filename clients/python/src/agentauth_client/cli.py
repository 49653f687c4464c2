"""`agentauth`: log in with the device flow, print tokens, and call APIs that may need approval.

Configuration comes from flags, then the environment (AGENTAUTH_ISSUER, AGENTAUTH_CLIENT_ID,
AGENTAUTH_CLIENT_SECRET, AGENTAUTH_PRIVATE_KEY_FILE), then the login stored by `agentauth login`
in $AGENTAUTH_CONFIG_DIR (default ~/.config/agentauth/credentials.json, readable by you only).

Exit status: 0 done, 1 error, 2 usage, 3 denied, 4 expired, 5 cancelled, 6 the approved action
failed, 7 stopped waiting (--timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import webbrowser
from pathlib import Path
from typing import Any

import jwt

from . import __version__
from .client import Client
from .errors import ActionFailed, AgentAuthError, ApprovalTimeout, Cancelled, Denied, Expired
from .models import Approval, DeviceAuthorization, Token

EXIT_CODES = {Denied: 3, Expired: 4, Cancelled: 5, ActionFailed: 6, ApprovalTimeout: 7}
CREDENTIALS = "credentials.json"


def config_dir() -> Path:
    configured = os.environ.get("AGENTAUTH_CONFIG_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "agentauth"


def load_login() -> dict[str, Any]:
    path = config_dir() / CREDENTIALS
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise AgentAuthError(f"Cannot read {path}: {error}") from None


def save_login(issuer: str, client_id: str, token: Token) -> Path:
    """Write the login where only this user can read it (0600 in a 0700 directory), atomically."""
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / CREDENTIALS
    partial = directory / f".{CREDENTIALS}.{os.getpid()}"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"issuer": issuer, "client_id": client_id, "token": token.to_dict()}, file, indent=2)
    os.chmod(partial, 0o600)  # in case the file existed with a wider mode
    os.replace(partial, path)
    return path


def build_client(options: argparse.Namespace, *, use_login: bool = True) -> Client:
    stored = load_login() if use_login else {}
    issuer = options.issuer or os.environ.get("AGENTAUTH_ISSUER") or stored.get("issuer")
    client_id = options.client_id or os.environ.get("AGENTAUTH_CLIENT_ID") or stored.get("client_id")
    if not issuer or not client_id:
        raise AgentAuthError("Say which server and agent: --issuer and --client-id (or AGENTAUTH_ISSUER, ...).")
    secret = options.client_secret or os.environ.get("AGENTAUTH_CLIENT_SECRET") or None
    key_file = options.private_key or os.environ.get("AGENTAUTH_PRIVATE_KEY_FILE")
    same_login = stored.get("issuer") == issuer.rstrip("/") and stored.get("client_id") == client_id
    token = Token.from_dict(stored["token"]) if same_login and stored.get("token") else None
    persist = same_login and token is not None
    return Client(
        issuer,
        client_id,
        client_secret=secret,
        private_key=Path(key_file).read_bytes() if key_file else None,
        scope=options.scope,
        token=token,
        on_token=(lambda fresh: save_login(issuer.rstrip("/"), client_id, fresh)) if persist else None,
    )


def login(options: argparse.Namespace) -> int:
    """Device login (RFC 8628): show the code, open the browser, wait for the person, store the token."""
    with build_client(options, use_login=False) as client:

        def show(device: DeviceAuthorization) -> None:
            target = device.verification_uri_complete or device.verification_uri
            print(f"To sign in, open {device.verification_uri} and enter the code {device.user_code}", file=sys.stderr)
            if not options.no_browser and webbrowser.open(target):
                print(f"(opened {target} in your browser)", file=sys.stderr)
            print("Waiting for you to approve ...", file=sys.stderr)

        token = client.device_login(options.scope, on_code=show)
        path = save_login(client.issuer, client.client_id, token)
    print(f"Logged in with {token.scope or 'no scopes'}; token stored in {path}", file=sys.stderr)
    return 0


def logout(options: argparse.Namespace) -> int:
    path = config_dir() / CREDENTIALS
    if path.exists():
        with build_client(options) as client:
            if client.current_token is not None:
                client.revoke()
        path.unlink()
    print("Logged out.", file=sys.stderr)
    return 0


def print_token(options: argparse.Namespace) -> int:
    with build_client(options) as client:
        print(client.token().access_token)
    return 0


def whoami(options: argparse.Namespace) -> int:
    """The current token's claims, decoded for display only (not verified: use TokenVerifier to trust it)."""
    with build_client(options) as client:
        token = client.token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    print(json.dumps({"token_type": token.token_type, "claims": claims}, indent=2, sort_keys=True))
    return 0


class ProgressLine:
    """One line on stderr, rewritten in place on a terminal, one line per change otherwise."""

    def __init__(self, stream: Any = sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last_status: str | None = None

    def __call__(self, approval: Approval) -> None:
        left = approval.seconds_left()
        clock = (
            f", {int(left) // 60:02d}:{int(left) % 60:02d} left" if left is not None and not approval.is_final else ""
        )
        line = f"approval {approval.id}: {approval.status}{clock}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line + ("\n" if approval.is_final else ""))
        elif approval.status != self.last_status:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.last_status = approval.status


def request(options: argparse.Namespace) -> int:
    body = json.loads(options.json) if options.json is not None else None
    headers = dict(_header(value) for value in options.header)
    with build_client(options) as client:
        result = client.request(
            options.method,
            options.url,
            json=body,
            headers=headers,
            approval_timeout=options.timeout,
            on_progress=ProgressLine(),
            wait=not options.no_wait,
        )
    print(json.dumps(result.data, indent=2) if not isinstance(result.data, str) else result.data)
    return 0


def approvals(options: argparse.Namespace) -> int:
    with build_client(options) as client:
        found = client.approvals(options.status)
    if options.as_json:
        print(json.dumps([dict(approval.raw) for approval in found], indent=2))
        return 0
    if not found:
        print("No approvals.", file=sys.stderr)
    for approval in found:
        created = approval.raw.get("created_at", "")[:19].replace("T", " ")
        print(f"{approval.id}  {approval.status:<9}  {created}  {approval.action or ''}")
    return 0


def _header(value: str) -> tuple[str, str]:
    name, separator, content = value.partition(":")
    if not separator:
        raise argparse.ArgumentTypeError(f"--header {value!r}: use 'Name: value'")
    return name.strip(), content.strip()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="agentauth", description=__doc__.split("\n\n")[0])
    top.add_argument("--version", action="version", version=f"agentauth-client {__version__}")
    top.add_argument("--issuer", help="the AgentAuth server (AGENTAUTH_ISSUER)")
    top.add_argument("--client-id", help="the agent's client id (AGENTAUTH_CLIENT_ID)")
    top.add_argument("--client-secret", help="a confidential agent's secret (AGENTAUTH_CLIENT_SECRET)")
    top.add_argument("--private-key", help="PEM or JWK file for private_key_jwt (AGENTAUTH_PRIVATE_KEY_FILE)")
    top.add_argument("--scope", help="scopes to ask for, space-separated (default: the agent's own)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    step = commands.add_parser("login", help="sign in with the device flow and store the token")
    step.add_argument("--scope", default=argparse.SUPPRESS, help="scopes to ask the person for")
    step.add_argument("--no-browser", action="store_true", help="only print the code and address")
    step.set_defaults(run=login)
    commands.add_parser("logout", help="revoke and forget the stored login").set_defaults(run=logout)
    commands.add_parser("token", help="print an access token (renewed when due)").set_defaults(run=print_token)
    commands.add_parser("whoami", help="show the current token's claims (decoded, not verified)").set_defaults(
        run=whoami
    )

    step = commands.add_parser("request", help="call an API, waiting for approval when it asks for one")
    step.add_argument("method", type=str.upper, help="GET, POST, ...")
    step.add_argument("url", help="an absolute URL, or a path on the issuer")
    step.add_argument("--json", help="a JSON request body")
    step.add_argument("--header", "-H", action="append", default=[], help="'Name: value' (repeatable)")
    step.add_argument("--timeout", type=float, help="stop waiting for the approval after this many seconds")
    step.add_argument("--no-wait", action="store_true", help="print the 202 instead of waiting for the person")
    step.set_defaults(run=request)

    step = commands.add_parser("approvals", help="list this agent's approvals")
    step.add_argument("--status", help="only pending, approved, denied, expired, cancelled, executed or failed")
    step.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    step.set_defaults(run=approvals)
    return top


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    try:
        return options.run(options)
    except (Denied, Expired, Cancelled, ActionFailed, ApprovalTimeout) as outcome:
        print(f"\n{type(outcome).__name__}: {outcome}", file=sys.stderr)
        return EXIT_CODES[type(outcome)]
    except AgentAuthError as error:
        print(f"agentauth: {error}", file=sys.stderr)
        return 1
    except (ValueError, argparse.ArgumentTypeError, OSError) as error:
        print(f"agentauth: {error}", file=sys.stderr)
        return 2 if not isinstance(error, OSError) else 1
    except KeyboardInterrupt:
        print("\ninterrupted (an approval stays open until its person decides)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
