"""Static files: the vendored Chart.js matches its manifest, nothing loads from the
network, and static files (the admin's CSS too) are served with DEBUG off."""
import hashlib
import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from . import web_data
from .test_web_access import body, web_urls

WEB = Path(settings.BASE_DIR) / "etl" / "web"
VENDOR = WEB / "static" / "etl" / "vendor" / "chartjs"
REMOTE = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)


def test_chartjs_matches_its_manifest():
    manifest = json.loads((VENDOR / "manifest.json").read_text())
    assert manifest["package"] == "chart.js" and manifest["version"].startswith("4.")
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert f"Chart.js v{manifest['version']}" in (VENDOR / "chart.umd.min.js").read_text()[:200]
    assert "MIT" in (VENDOR / "LICENSE.md").read_text()


def test_no_template_loads_from_the_network():
    templates = list((WEB / "templates").rglob("*.html"))
    assert templates
    for template in templates:
        assert not REMOTE.search(template.read_text()), template


@pytest.mark.django_db
def test_no_page_loads_from_the_network(client):
    users = web_data.load()
    client.force_login(users["root"])
    for url in web_urls():
        text = body(client.get(url))
        assert not REMOTE.search(text), url


@pytest.mark.django_db
def test_static_files_are_served_with_debug_off(client):
    assert settings.DEBUG is False
    for path in ("/static/etl/vendor/chartjs/chart.umd.min.js", "/static/admin/css/base.css", "/static/etl/site.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(b"".join(response.streaming_content) if response.streaming else response.content) > 100



def test_no_warning_about_static_files_not_collected_yet(tmp_path, settings):
    """Static files are served from the apps' folders until ``collectstatic`` fills
    STATIC_ROOT, so a server started before it (``make serve``, the bench) has nothing
    to warn about; another missing folder is still reported."""
    import warnings

    from etl.web.staticfiles import StaticFilesMiddleware

    assert "etl.web.staticfiles.StaticFilesMiddleware" in settings.MIDDLEWARE
    settings.STATIC_ROOT = tmp_path / "not-collected"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        middleware = StaticFilesMiddleware(lambda request: None)
        assert [str(w.message) for w in caught] == []
        middleware.add_files(str(tmp_path / "elsewhere"), prefix="/x/")
    assert [str(w.message) for w in caught] == [f"No directory at: {tmp_path / 'elsewhere'}/"]
