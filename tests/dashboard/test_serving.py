"""How the API serves the built dashboard: client routes fall back to index.html, hashed assets
are cached for a year, and a missing build answers a page that says how to build it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.dashboard import router as dashboard


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Dashboard</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(dashboard, "DIST", tmp_path)
    return tmp_path


def test_client_routes_answer_index_html_revalidated_each_time(client, dist):
    for path in ("/dashboard/", "/dashboard/chatbots/1234/sources", "/dashboard/signin"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "<title>Dashboard</title>" in r.text
        assert r.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_bare_dashboard_path_redirects_to_the_app(client, dist):
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 308
    assert r.headers["location"] == "/dashboard/"


def test_the_servers_root_opens_the_dashboard(client, dist):
    """The quick start's address is the server's root: it leads to the dashboard, not a 404."""
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/dashboard/"


def test_hashed_assets_are_cached_for_a_year_and_missing_ones_are_404(client, dist):
    r = client.get("/dashboard/assets/index-abc123.js")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/dashboard/assets/index-gone.js").status_code == 404


def test_paths_outside_the_build_are_not_served(client, dist):
    (dist.parent / "secret.txt").write_text("no")
    r = client.get("/dashboard/..%2Fsecret.txt")
    assert r.text != "no"
    assert "<title>Dashboard</title>" in r.text


def test_missing_build_answers_a_page_saying_how_to_build_it(
    client, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(dashboard, "DIST", tmp_path / "nothing")
    r = client.get("/dashboard/chatbots")
    assert r.status_code == 503
    assert "scripts/build-dashboard" in r.text
