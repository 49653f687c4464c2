"""The reference deployment agrees with the code: the processes exist, the proxy routes sockets
and long-polls to live, and never serves /metrics."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_every_process_kind_from_executables_we_install():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "migrate", "beat", "caddy"} <= set(services)
    assert {"web-1", "web-2", "live-1", "live-2", "worker-1", "worker-2"} <= set(services)
    for name, service in services.items():
        command = service.get("command") or []
        if command and command[0].startswith(".venv/bin/"):
            assert (ROOT / command[0]).exists(), f"{name}: {command[0]}"
    assert "agentauth.wsgi:application" in services["web-1"]["command"]
    assert "agentauth.asgi:application" in services["live-1"]["command"]


def test_the_proxy_sends_live_traffic_to_live_and_hides_metrics():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "@live {\n\t\tpath /ws/* /api/v1/approvals/*\n\t\tnot path */decision /api/v1/approvals/\n\t}" in caddyfile
    assert "reverse_proxy @live live-1:8000 live-2:8000" in caddyfile
    assert "@metrics path /metrics\n\trespond @metrics 404" in caddyfile
