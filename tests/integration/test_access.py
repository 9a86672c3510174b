"""Deny by default: every endpoint carries exactly one access decision, and the decisions hold."""
import pytest

from portal.access import public
from tests import factories
from tests.browser import FormClient

# Expected status for a GET by each kind of visitor, per tagged access kind.
EXPECTED = {
    "public": {"anonymous": {200, 302, 404}, "landlord": {200, 302, 404}, "officer": {200, 302, 404}},
    "authenticated": {"anonymous": {302}, "landlord": {200}, "officer": {200}},
    "role:landlord": {"anonymous": {302}, "landlord": {200}, "officer": {404}},
    "role:employer": {"anonymous": {302}, "landlord": {404}, "officer": {404}},
    "role:officer": {"anonymous": {302}, "landlord": {404}, "officer": {200}},
    "role:admin": {"anonymous": {302}, "landlord": {404}, "officer": {404}},
    "role:auditor": {"anonymous": {302}, "landlord": {404}, "officer": {404}},
    "role:clerk": {"anonymous": {302}, "landlord": {404}, "officer": {404}},
    # The JSON API takes only a bearer token: a session cookie is not a credential there (401 problem+json).
    "api": {"anonymous": {401}, "landlord": {401}, "officer": {401}},
}


# Pages that only send their own users on elsewhere.
REDIRECTING = {"landlord.new_house"}


def test_every_endpoint_is_tagged(app):
    untagged = [name for name, view in app.view_functions.items()
                if name != "static" and getattr(view, "access", None) is None]
    assert untagged == []
    kinds = {getattr(v, "access", None) for n, v in app.view_functions.items() if n != "static"}
    assert kinds <= set(EXPECTED)


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in (rule.methods or ()):
            continue
        args = {a: ("1" if a.endswith("id") or a == "n" else "x") for a in rule.arguments}
        yield rule.endpoint, app.url_map.bind("localhost").build(rule.endpoint, args), bool(args)


def test_role_by_endpoint_matrix(app, db_session, client, landlord_client, officer_client):
    clients = {"anonymous": client, "landlord": landlord_client, "officer": officer_client}
    failures = []
    for endpoint, url, has_args in _get_routes(app):
        kind = app.view_functions[endpoint].access
        for who, c in clients.items():
            status = c.get(url).status_code
            expected = EXPECTED[kind][who]
            if has_args and 200 in expected:
                # An object id that this user does not own (here: none exists) is a 404; a draft key
                # that is not theirs sends them back to their home page.
                expected = expected | {302, 404}
            if endpoint in REDIRECTING and 200 in expected:
                expected = expected | {302}
            if status not in expected:
                failures.append((endpoint, url, who, status))
    assert failures == []


def test_an_untagged_view_is_denied(app, client):
    def sneaky():
        return "secret"

    app.view_functions["test_sneaky"] = sneaky
    app.url_map.add(app.url_rule_class("/sneaky-test", endpoint="test_sneaky"))
    try:
        assert client.get("/sneaky-test").status_code == 404
    finally:
        public(sneaky)  # the rule cannot be removed again; leave it tagged for the other tests
    assert client.get("/sneaky-test").status_code == 200


@pytest.mark.parametrize("role", ["landlord", "employer", "officer"])
def test_admin_pages_are_404_for_other_roles(app, db_session, district, role):
    user = factories.make_user(db_session, role=role, station=district.stations[0] if role == "officer" else None)
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret if role == "officer" else None)
    assert c.get("/admin/").status_code == 404
    assert c.get("/admin/audit").status_code == 404
