"""Ctrl-C's statement wrapper (etl/management/interrupts.py) with a build's lanes: only
the main thread's statements hold the signal handler back (it runs there); a lane's
statement failing after Ctrl-C still becomes KeyboardInterrupt."""
import threading

import pytest

from etl.management import interrupts


@pytest.fixture
def state(monkeypatch):
    monkeypatch.setattr(interrupts.state, "in_statement", False)
    monkeypatch.setattr(interrupts.state, "requested", False)
    return interrupts.state


def in_thread(function, *args):
    outcome = []

    def run():
        try:
            outcome.append(function(*args))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


def test_only_the_main_threads_statements_hold_ctrl_c_back(state):
    seen = []

    def execute(sql, params, many, context):
        seen.append(state.in_statement)
        return 1

    assert interrupts._statement(execute, "SELECT 1", None, False, {}) == 1
    assert seen == [True] and state.in_statement is False
    # The main thread is inside a statement when a lane's statement starts and ends: the
    # handler must still see the main thread's.
    state.in_statement = True
    assert in_thread(interrupts._statement, execute, "SELECT 1", None, False, {}) == 1
    assert seen == [True, True] and state.in_statement is True


def test_a_lanes_statement_failing_after_ctrl_c_is_an_interruption(state):
    def cancelled(sql, params, many, context):
        raise RuntimeError("canceling statement due to user request")

    state.requested = True
    assert isinstance(in_thread(interrupts._statement, cancelled, "SELECT 1", None, False, {}), KeyboardInterrupt)
    state.requested = False
    assert isinstance(in_thread(interrupts._statement, cancelled, "SELECT 1", None, False, {}), RuntimeError)
