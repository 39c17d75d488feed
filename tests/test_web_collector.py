"""The server's garbage-collector settling (etl.web.collector): what start-up and the first
requests leave alive is frozen, once each, and nothing after."""
import gc

import pytest
from django.core.signals import request_finished

from etl.web.collector import settle, settle_after_warm_up


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    request_finished.disconnect(dispatch_uid="etl.web.collector")
    gc.unfreeze()


def test_settle_freezes_what_is_alive_and_collects_the_garbage(unfrozen):
    class Node:
        pass

    alive = [Node() for _ in range(100)]
    cycle = Node()
    cycle.me = cycle          # garbage only the collector can free
    del cycle
    settle()
    assert gc.get_freeze_count() >= len(alive)
    assert not any(type(o) is Node and o not in alive for o in gc.get_objects())   # the cycle was freed
    assert not any(type(o) is Node for o in gc.get_objects(generation=2))   # the rest is out of reach
    gc.unfreeze()
    assert sum(1 for o in gc.get_objects() if type(o) is Node) == 100


def frozen(obj) -> bool:
    """Tracked by the collector, yet in none of its generations: frozen."""
    return gc.is_tracked(obj) and id(obj) not in {id(o) for o in gc.get_objects()}


def test_settle_after_warm_up_freezes_again_after_that_many_requests_only(client, unfrozen):
    early = []
    settle_after_warm_up(requests=2)
    assert frozen(early)                  # start-up
    cache = []                            # made by the first requests
    client.get("/login/")
    assert not frozen(cache)
    client.get("/login/")
    assert frozen(cache)                  # settled after the second request
    later = []
    for _ in range(3):
        client.get("/login/")
    assert not frozen(later)              # once, not on every request
