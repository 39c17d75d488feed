"""The garbage collector in a long-running server process (docs/web.md, "Speed").

A full collection walks every tracked object that is not frozen, and lands inside
whichever request allocated the object that triggered it. What a server process keeps
for its whole life is made in two steps: start-up (Django, the apps, the URLconf) and the
first requests (compiled templates, URL resolvers, the API's schema and serializers,
filter sets, the database connection). :func:`settle` moves what is alive at that point
out of the collector's reach (``gc.freeze``), so later full collections walk only what
requests allocate. Measured by ``make bench-web``, which reports the collector's time: a
full collection took up to 62 ms with only start-up frozen, 17 ms with the first
requests frozen too, on the same loaded 2-CPU machine.
"""
from __future__ import annotations

import gc
import threading

from django.core.signals import request_finished

# Requests after which the process is settled a second time: enough for every page and
# endpoint to have been served once on a busy server (lazy caches are built by then).
WARM_UP_REQUESTS = 100


def settle() -> None:
    """Collect what is garbage now, then freeze everything still alive: it is never walked
    again (frozen objects that die later are still freed by reference counting)."""
    gc.collect()
    gc.freeze()


def settle_after_warm_up(requests: int = WARM_UP_REQUESTS) -> None:
    """Settle now (start-up), and once more when ``requests`` requests have finished (the
    caches the first requests built). The second collection runs after that request's
    response, once per process."""
    settle()
    lock = threading.Lock()
    left = [requests]

    def finished(**kwargs) -> None:
        with lock:
            left[0] -= 1
            if left[0] != 0:
                return
        request_finished.disconnect(finished, dispatch_uid=__name__)
        settle()

    request_finished.connect(finished, weak=False, dispatch_uid=__name__)
