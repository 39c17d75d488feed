"""Static files for the site, with DEBUG off too (the admin's CSS, Chart.js): WhiteNoise,
with no web server in front."""
from __future__ import annotations

import os

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, quiet about a ``STATIC_ROOT`` that ``collectstatic`` has not filled yet.

    With ``WHITENOISE_USE_FINDERS`` the apps' own static folders are served meanwhile, so a
    server started before ``collectstatic`` (``make serve``, the benches, the tests) lacks
    nothing; WhiteNoise would still warn "No directory at: .../staticfiles/" on the first
    request. Any other missing directory is still warned about."""

    def add_files(self, root, prefix=None):
        if (self.use_finders and not self.autorefresh and str(root) == str(self.static_root)
                and not os.path.isdir(root)):
            return
        super().add_files(root, prefix)
