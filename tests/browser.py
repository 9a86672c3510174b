"""A test client that fills forms as a browser does: it reads the CSRF token from the page."""
from __future__ import annotations

import secrets
import time

import pyotp
from bs4 import BeautifulSoup


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


class FormClient:
    def __init__(self, client) -> None:
        self.client = client
        # Each browser comes from its own address, as people do: rate limits count per address.
        octets = (secrets.randbelow(256), secrets.randbelow(256), secrets.randbelow(254) + 1)
        client.environ_base["REMOTE_ADDR"] = "10.{}.{}.{}".format(*octets)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def submit(self, url: str, data: dict, *, form_index: int = -1, follow: bool = False):
        """GET the page, take the chosen POST form's hidden fields (CSRF token), then POST it with data."""
        page = parse(self.client.get(url))
        forms = [f for f in page.find_all("form") if (f.get("method") or "get").lower() == "post"
                 and "language-switch" not in (f.get("class") or [])
                 and not f.find("button", string=lambda s: s and s.strip() in ("Sign out", "退出登录"))]
        form = forms[form_index]
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden") if i.get("name")}
        fields.update(data)
        action = form.get("action") or url
        return self.client.post(action, data=fields, follow_redirects=follow)

    def sign_in(self, phone: str, password: str, *, totp_secret: str | None = None):
        response = self.submit("/auth/login", {"phone": phone, "password": password})
        if totp_secret:
            assert response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor"), \
                response.get_data(as_text=True)[:500]
            code = pyotp.TOTP(totp_secret).now()
            response = self.submit("/auth/two-factor", {"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    @staticmethod
    def fresh_code(secret: str, after: float | None = None) -> str:
        return pyotp.TOTP(secret).at(after if after is not None else time.time())
