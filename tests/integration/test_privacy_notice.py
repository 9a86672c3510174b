"""The privacy notice (PIPL art. 17): a public page in Chinese and English, linked from every page's footer,
at sign-up and on the move-in check page before it is sent."""
from __future__ import annotations

from portal.models import Submission
from tests import factories
from tests.browser import parse
from tests.factories import text_of


def test_the_notice_is_public_and_says_what_the_law_asks_in_both_languages(client):
    page = parse(client.get("/privacy"))  # the default language: Chinese
    headings = [text_of(h) for h in page.select("main h2")]
    assert headings == ["收集哪些信息，关于谁", "为什么收集", "谁能看到", "保存多久", "如何保护", "您可以做什么"]
    text = page.get_text()
    assert "《租赁房屋治安管理规定》" in text and "《出境入境管理法》第三十九条" in text and "12377" in text
    assert "搬离或离职 1095 天后" in text  # the retention period the portal applies (RETENTION_DAYS)
    english = parse(factories.english(client).get("/privacy"))
    assert [text_of(h) for h in english.select("main h2")][:2] == ["What is collected, about whom", "Why"]
    assert "SM4" in english.get_text()


def _privacy_link(page) -> bool:
    return any(a.get("href") == "/privacy" for a in page.select("footer a"))


def test_every_page_links_to_it_and_sign_up_shows_it(client):
    for url in ("/", "/auth/login", "/auth/sign-up/landlord", "/r/0000000000"):
        assert _privacy_link(parse(client.get(url))), url
    form = parse(client.get("/auth/sign-up/landlord")).select_one("main form")
    assert form.select_one("a[href='/privacy']") is not None


def test_the_move_in_check_page_shows_it_before_the_report_is_sent(landlord_client, db_session, district, landlord):
    house = factories.make_house(db_session, landlord, district.addresses[0]).house
    old = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="李四")])
    page_url = f"/landlord/submissions/{old.id}"
    check = factories.post_form(landlord_client, parse(landlord_client.get(page_url)), page_url, "/correct")
    page = parse(landlord_client.get(check.headers["Location"]))
    sending = page.select_one("main form button[type=submit]")
    link = page.select_one("main a[href='/privacy']")
    assert link is not None and sending is not None
    assert link.sourceline < sending.sourceline  # read before sending
    assert db_session.get(Submission, old.id) is not None
