"""Button clicks: judged by when the browser sent them, one run at a time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from helpers.views import clicks

pytestmark = pytest.mark.nobackend


@pytest.fixture
def browser_clicks(monkeypatch):
    """Clicks arrive stamped with the time the browser sent them; move ``sent.at`` between."""
    sent = SimpleNamespace(at=1000.0)
    monkeypatch.setattr(clicks, "browser_click_time", lambda: sent.at)
    return sent


def test_a_double_clicks_second_click_is_not_run(browser_clicks):
    guard, runs = clicks.ClickGuard(), []
    guard.run("values", lambda: runs.append(1))
    browser_clicks.at += 0.3
    guard.run("values", lambda: runs.append(2))
    assert runs == [1]


@pytest.mark.parametrize(
    "gap, key", [(clicks.DOUBLE_CLICK_SECONDS + 0.5, "values"), (0.3, "changed values")]
)
def test_clicks_further_apart_or_on_changed_values_both_run(browser_clicks, gap, key):
    guard, runs = clicks.ClickGuard(), []
    guard.run("values", lambda: runs.append(1))
    browser_clicks.at += gap
    guard.run(key, lambda: runs.append(2))
    assert runs == [1, 2]


def test_clicks_made_in_python_always_run():
    guard, runs = clicks.ClickGuard(), []
    guard.run("values", lambda: runs.append(1))
    guard.run("values", lambda: runs.append(2))
    assert runs == [1, 2]


def test_a_click_during_a_run_on_another_thread_is_ignored():
    guard, runs = clicks.ClickGuard(), []
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        runs.append("first")

    worker = threading.Thread(target=guard.run, args=("values", slow))
    worker.start()
    assert started.wait(10)
    guard.run("other values", lambda: runs.append("second"))
    release.set()
    worker.join(10)
    assert runs == ["first"]


def test_a_click_while_a_change_is_judged_waits_for_it_and_runs():
    """A learner ticks a box and clicks at once: the click arrives (on another thread) while the
    change's judgement still holds the form; it runs once that judgement is done."""
    guard, events = clicks.ClickGuard(), []
    judging, release = threading.Event(), threading.Event()

    def judge_a_change():
        with guard.lock:
            judging.set()
            release.wait(10)
            events.append("judged")

    change = threading.Thread(target=judge_a_change)
    change.start()
    assert judging.wait(10)
    click = threading.Thread(target=guard.run, args=("values", lambda: events.append("clicked")))
    click.start()
    click.join(0.2)
    assert click.is_alive() and events == []  # waiting, not dropped
    release.set()
    change.join(10)
    click.join(10)
    assert events == ["judged", "clicked"]


def _kernel_handling(monkeypatch, parent):
    from ipykernel.kernelbase import Kernel

    kernel = SimpleNamespace(get_parent=lambda channel="shell": parent)
    monkeypatch.setattr(Kernel, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(Kernel, "instance", classmethod(lambda cls: kernel))


@pytest.mark.parametrize(
    "date", [datetime(2026, 11, 28, 4, 21, 50, 390000, tzinfo=UTC), "2026-11-28T04:21:50.390Z"]
)
def test_the_click_time_is_the_browsers_stamp_on_the_comm_message(monkeypatch, date):
    _kernel_handling(monkeypatch, {"msg_type": "comm_msg", "header": {"date": date}})
    expected = datetime(2026, 11, 28, 4, 21, 50, 390000, tzinfo=UTC).timestamp()
    assert clicks.browser_click_time() == pytest.approx(expected)


def test_a_click_made_by_running_a_cell_has_no_browser_time(monkeypatch):
    _kernel_handling(
        monkeypatch, {"msg_type": "execute_request", "header": {"date": "2026-11-28T04:21:50.390Z"}}
    )
    assert clicks.browser_click_time() is None


def test_outside_a_kernel_there_is_no_browser_click_time():
    assert clicks.browser_click_time() is None
