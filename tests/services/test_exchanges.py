"""Recorded exchanges over real HTTP: matching, playback order, realistic misses."""

from __future__ import annotations

import httpx

SHOP = {"host": "api.shop.test"}
MAIL = {"host": "mail.example.test"}


def test_exact_exchange_hit_returns_the_recorded_response(shop: httpx.Client) -> None:
    """A GET equal to the recording answers its status and JSON body."""
    r = shop.get("/v1/ping", headers=SHOP)
    assert (r.status_code, r.json()) == (200, {"pong": True})
    assert r.headers["content-type"] == "application/json"


def test_host_port_is_ignored_when_routing(shop: httpx.Client) -> None:
    """Host 'api.shop.test:8443' routes to the service claiming 'api.shop.test'."""
    r = shop.get("/v1/ping", headers={"host": "api.shop.test:8443"})
    assert r.json() == {"pong": True}


def test_exact_query_must_be_equal(shop: httpx.Client) -> None:
    """An exact matcher answers only its recorded query; extra parameters miss with 422."""
    assert shop.get("/v1/products?category=tea", headers=SHOP).json() == {"data": ["p1"]}
    miss = shop.get("/v1/products?category=tea&page=2", headers=SHOP)
    assert miss.status_code == 422
    assert shop.get("/v1/products?category=coffee", headers=SHOP).status_code == 422


def test_subset_query_accepts_extra_parameters(shop: httpx.Client) -> None:
    """A subset matcher answers when its recorded parameters are among the request's."""
    r = shop.get("/v1/search?q=tea&limit=5", headers=SHOP)
    assert r.json() == {"hits": 1}
    assert shop.get("/v1/search?q=coffee", headers=SHOP).status_code == 422


def test_exact_path_beats_template(shop: httpx.Client) -> None:
    """/v1/products/p1 answers its own recording; other ids fall to the {id} template."""
    assert shop.get("/v1/products/p1", headers=SHOP).json() == {"id": "p1", "name": "Green tea"}
    assert shop.get("/v1/products/zz", headers=SHOP).json() == {"id": "any", "templated": True}
    assert shop.get("/v1/products/zz/reviews", headers=SHOP).status_code == 404


def test_exact_body_must_be_equal(shop: httpx.Client) -> None:
    """An exact body matcher answers an equal JSON body (key order free) and nothing else."""
    hit = shop.post("/v1/carts", json={"qty": 1, "sku": "p1"}, headers=SHOP)
    assert (hit.status_code, hit.json()) == (200, {"cart": "c1"})
    assert shop.post("/v1/carts", json={"sku": "p1", "qty": 2}, headers=SHOP).status_code == 422
    extra = shop.post("/v1/carts", json={"sku": "p1", "qty": 1, "note": "x"}, headers=SHOP)
    assert extra.status_code == 422


def test_subset_body_accepts_extra_fields(shop: httpx.Client) -> None:
    """A subset body matcher answers when the recorded body is contained in the request's."""
    r = shop.post("/v1/quotes", json={"sku": "p1", "currency": "EUR"}, headers=SHOP)
    assert r.json() == {"quote": 12.5}
    assert shop.post("/v1/quotes", json={"sku": "p2"}, headers=SHOP).status_code == 422


def test_ignore_body_matches_any_body_and_sends_text(shop: httpx.Client) -> None:
    """ignore_body answers any body; a text response keeps its headers, with a fresh length."""
    r = shop.post("/v1/events", content=b"not json at all", headers=SHOP)
    assert (r.status_code, r.text) == (202, "accepted")
    assert r.headers["x-req"] == "7"
    assert r.headers["content-length"] == str(len("accepted"))


def test_same_request_recorded_twice_plays_back_in_order(shop: httpx.Client) -> None:
    """Two recordings of one request answer in recorded order, then the last repeats."""
    amounts = [shop.get("/v1/balance", headers=SHOP).json()["amount"] for _ in range(3)]
    assert amounts == [100, 80, 80]


def test_recorded_headers_must_match(shop: httpx.Client) -> None:
    """A matcher with headers answers only requests carrying them."""
    ok = shop.get("/v1/me", headers={**SHOP, "authorization": "Bearer t0k"})
    assert ok.json() == {"user": "ada"}
    assert shop.get("/v1/me", headers=SHOP).status_code == 422


def test_unknown_path_is_404_shaped_like_recorded_errors(shop: httpx.Client) -> None:
    """With a recorded error body, a miss answers the same shape with its own message."""
    recorded = shop.get("/v1/products/x9", headers=SHOP)
    assert recorded.status_code == 404
    miss = shop.get("/v1/nothing", headers=SHOP)
    assert miss.status_code == 404
    assert miss.json() == {"error": {"type": "invalid_request_error", "message": "Not Found"}}


def test_known_path_with_another_method_is_405_with_allow(shop: httpx.Client) -> None:
    """A recorded path asked with an unrecorded method answers 405 and lists the methods."""
    r = shop.delete("/v1/ping", headers=SHOP)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert r.json()["error"]["message"] == "Method Not Allowed"


def test_invalid_json_body_is_422(shop: httpx.Client) -> None:
    """A body that is not JSON cannot match a JSON matcher: 422."""
    r = shop.post("/v1/carts", content=b"{oops", headers=SHOP)
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "Unprocessable Entity"


def test_service_error_body_template_is_used(shop: httpx.Client) -> None:
    """A service's error_body template shapes its misses, '{status}' becoming a number."""
    assert shop.get("/inbox", headers=MAIL).json() == {"messages": []}
    r = shop.get("/outbox", headers=MAIL)
    assert r.status_code == 404
    assert r.json() == {"status": 404, "reason": "Not Found", "ok": False}


def test_hosts_route_to_their_own_service(shop: httpx.Client) -> None:
    """A path recorded for one service is not served on another service's host."""
    assert shop.get("/inbox", headers=SHOP).status_code == 404
    assert shop.get("/v1/ping", headers=MAIL).status_code == 404


def test_unknown_host_with_several_services_is_404(shop: httpx.Client) -> None:
    """With two services and no default, an unclaimed host answers the default error shape."""
    r = shop.get("/v1/ping", headers={"host": "elsewhere.test"})
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "message": "Not Found"}}


def test_no_framework_routes(shop: httpx.Client) -> None:
    """/docs, /redoc and /openapi.json are not served: they would shadow mocked paths."""
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert shop.get(path, headers=SHOP).status_code == 404
        assert shop.get(path).status_code == 404
