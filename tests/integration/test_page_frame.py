"""What every page carries (issue 18, item 5): a meta description and a favicon, and for a signed-in person an
account menu (a <details>, no script) holding the password change and, for reporters, the API tokens."""
from __future__ import annotations

from tests.browser import parse
from tests.factories import english, text_of


def test_every_page_has_a_description_and_a_favicon_that_is_served(client, db_session):
    for url in ("/", "/auth/login", "/auth/sign-up/landlord", "/r/not-a-receipt"):
        page = parse(english(client).get(url))
        description = page.find("meta", attrs={"name": "description"})
        assert description is not None and len(description["content"]) > 40, url
        icon = page.find("link", rel="icon")
        assert icon is not None, url
        served = client.get(icon["href"])
        try:
            assert served.status_code == 200 and served.mimetype == "image/svg+xml"
            assert served.get_data().startswith(b"<svg")
        finally:
            served.close()


def test_the_description_is_translated(client, db_session):
    zh = parse(client.get("/auth/login", headers={"Accept-Language": "zh-CN"}))
    en = parse(client.get("/auth/login", headers={"Accept-Language": "en"}))
    assert zh.find("meta", attrs={"name": "description"})["content"] != \
        en.find("meta", attrs={"name": "description"})["content"]


def test_the_api_tokens_and_the_password_change_are_under_the_account_menu(landlord_client, db_session, landlord):
    page = parse(english(landlord_client).get("/landlord/"))
    menu = page.select_one("header nav.account-nav details.account-menu")
    assert menu is not None
    assert landlord.name in text_of(menu.find("summary"))
    assert [a["href"] for a in menu.select("ul a")] == ["/auth/change-password", "/account/tokens"]
    header_links = [a["href"] for a in page.select("header a")]
    assert header_links.count("/account/tokens") == 1  # only in the menu
    assert page.select_one("header form[action='/auth/logout'] button") is not None  # signing out stays in view


def test_an_officer_s_menu_has_no_api_tokens(officer_client, db_session):
    menu = parse(english(officer_client).get("/officer/")).select_one("header details.account-menu")
    assert [a["href"] for a in menu.select("ul a")] == ["/auth/change-password"]
