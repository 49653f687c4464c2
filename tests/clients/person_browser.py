"""A stand-in for the person's browser, for `agentauth login`: webbrowser runs it (via $BROWSER)
with the verification URL; it signs in as the person and allows the scopes in $SDK_TEST_ALLOW."""

import os
import sys
from urllib.parse import parse_qs, urlsplit

from tests.clients.person import approve_device_code, signed_in

if __name__ == "__main__":
    url = urlsplit(sys.argv[1])
    issuer = f"{url.scheme}://{url.netloc}"
    with open(os.environ["SDK_TEST_OPENED"], "a") as opened:  # what the CLI asked the browser to open
        print(sys.argv[1], file=opened)
    browser = signed_in(issuer)
    approve_device_code(browser, issuer, parse_qs(url.query)["user_code"][0], os.environ["SDK_TEST_ALLOW"].split())
