"""WSGI entry point."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URLconf) lives as long as the process:
# move it out of the collector's reach, so a full garbage collection walks only what
# requests allocate (it otherwise walks every module and class, 40-280 ms on a loaded
# 2-CPU machine, and lands inside whichever request triggered it). docs/web.md, "Speed".
gc.freeze()
