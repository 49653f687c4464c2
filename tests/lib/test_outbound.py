"""The outbound guard, against real sockets: what it refuses never reaches a server."""

import http.server
import threading

import pytest

from agentauth.lib import outbound


class Recorder(http.server.BaseHTTPRequestHandler):
    hits = []
    redirect_to = None

    def do_POST(self):
        Recorder.hits.append(self.path)
        if Recorder.redirect_to and self.path == "/start":
            self.send_response(302)
            self.send_header("Location", Recorder.redirect_to)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.hits, Recorder.redirect_to = [], None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.catalogue("AI-06")
@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "127.1", "0x7f000001", "2130706433", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"],
)
def test_loopback_in_any_spelling_is_refused_over_https_and_nothing_is_sent(server, settings, host):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(outbound.Refused):
        outbound.post(f"https://{host}:{server}/hook", data=b"x")

    assert Recorder.hits == []


@pytest.mark.catalogue("AI-06")
@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://100.64.0.1/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://224.0.0.1/hook",
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(settings, url):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(outbound.Refused):
        outbound.post(url, data=b"x")


@pytest.mark.parametrize(
    "url",
    ["http://agent.example/hook", "ftp://agent.example/hook", "https://user:pw@agent.example/hook", "https:///x", "x"],
)
def test_only_https_urls_without_credentials_are_allowed(settings, url):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = []

    assert not outbound.allowed(url)
    assert outbound.allowed("https://agent.example/hook")


def test_an_allow_listed_host_is_reached_as_named(server, settings):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]

    response = outbound.post(f"http://127.0.0.1:{server}/hook", data=b"x")

    assert response.status_code == 204 and Recorder.hits == ["/hook"]
    with pytest.raises(outbound.Refused):
        outbound.post(f"http://localhost:{server}/hook")  # another name for it is not on the list


@pytest.mark.catalogue("AI-06")
def test_redirects_are_never_followed(server, settings):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    Recorder.redirect_to = f"http://127.0.0.1:{server}/internal"

    response = outbound.post(f"http://127.0.0.1:{server}/start")

    assert response.status_code == 302 and Recorder.hits == ["/start"]


@pytest.mark.catalogue("AI-06")
def test_a_callback_to_an_internal_host_is_dropped_not_retried(alice, payer, settings, server):
    from agentauth.identity.models import Agent
    from approvals import services
    from examples.payments import PAY
    from live import notifications

    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = []
    Agent.objects.filter(pk=payer.pk).update(callback_uri=f"https://localhost:{server}/hook")
    approval, _ = services.request_approval(
        user=alice, agent=payer, action=PAY, params={"amount": "1.00", "currency": "EUR", "to": "x", "memo": ""}
    )
    services.decide(approval, approve=False, by=alice)

    notifications.call_back_agent(approval.pk)  # returns: a refused address is not a retryable failure

    assert Recorder.hits == []
