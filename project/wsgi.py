"""WSGI entry point."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

# What start-up loaded (Django, the apps, the URLconf) and what the first requests build
# (templates, the API's schema, filter sets) live as long as the process: move both out of
# the garbage collector's reach, so a full collection walks only what requests allocate
# (it otherwise lands, 20-60 ms on a loaded 2-CPU machine, inside whichever request
# triggered it). docs/web.md, "Speed".
from etl.web.collector import settle_after_warm_up  # noqa: E402  (needs Django set up)

settle_after_warm_up()
