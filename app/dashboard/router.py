"""The customers' dashboard: the single-page app built from `app/dashboard/web` into `web/dist`.

Every path under /dashboard that is not a built file answers index.html, so the app's own routes
survive a reload. Vite names assets by the hash of their content, so they are cached for a year;
index.html is revalidated on every load so a new build is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

DIST = Path(__file__).parent / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
# The app loads only its own files and talks only to this API; nobody may frame it.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    # the invoice's printable page, opened from a blob, inherits this policy and has a <style>
    "style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; }</style>
</head><body>
<h1>The dashboard has not been built</h1>
<p>The API is running, but the dashboard's web app is missing from
<code>app/dashboard/web/dist</code>. Run <code>scripts/build-dashboard</code> (Node 20 and npm
needed), or start the server with <code>scripts/start</code>, which builds it.</p>
<p>Meanwhile the API and its documentation are at <a href="/docs">/docs</a>.</p>
</body></html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> Response:
    """A newcomer's first address (`scripts/start` prints it): the dashboard, where signing up
    and every first step is; the API's reference is at /docs. Temporary (307), so that a later
    landing page can take the address."""
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/dashboard")
def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/", status_code=308)


@router.get("/dashboard/{path:path}")
def dashboard(path: str) -> Response:
    index = DIST / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
    file = (DIST / path).resolve()
    if path and file.is_file() and file.is_relative_to(DIST.resolve()):
        hashed = path.startswith("assets/")
        return FileResponse(file, headers={"Cache-Control": IMMUTABLE if hashed else "no-cache"})
    if path.startswith("assets/"):
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(index, headers=PAGE_HEADERS)
