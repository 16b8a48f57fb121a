from __future__ import annotations

from tests.dashboard.conftest import Browser, Browsers


async def test_owner_sees_every_page(owner: Browser) -> None:
    for path in ["/", "/customers", "/caps", "/caps/new", "/alerts", "/keys", "/team", "/profile"]:
        response = await owner.get(path)
        assert response.status_code == 200, (path, response.text[:2000])


async def test_signed_out(browsers: Browsers) -> None:
    browser = await browsers.new()
    response = await browser.get("/customers?range=7d")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fcustomers%3Frange%3D7d"
