"""The repeating alert task: scheduled once, repaired when stale or doubled."""
from datetime import timedelta

import pytest
from background_task.models import CompletedTask, Task
from background_task.tasks import tasks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.schedule import alert_task_ensure_scheduled
from alerts.tasks import REPEAT_SECONDS, TASK_NAME, evaluate_alerts, run_evaluation_pass
from health.models import Heartbeat
from health.selectors import health_report

pytestmark = pytest.mark.django_db


def schedules():
    return list(Task.objects.filter(task_name=TASK_NAME))


def add_schedule(**fields):
    task = evaluate_alerts(repeat=REPEAT_SECONDS)
    Task.objects.filter(pk=task.pk).update(**fields)
    return task


def test_it_schedules_the_task_once_however_often_it_is_asked():
    assert alert_task_ensure_scheduled() == ["scheduled the alert evaluation every second"]
    for _ in range(3):
        assert alert_task_ensure_scheduled() == []
    [task] = schedules()
    assert task.repeat == REPEAT_SECONDS


def test_duplicate_schedules_are_reduced_to_one():
    for _ in range(3):
        add_schedule()
    alert_task_ensure_scheduled()
    assert len(schedules()) == 1


def test_a_schedule_whose_lock_expired_counts_as_waiting():
    add_schedule(locked_by="999999", locked_at=timezone.now() - timedelta(hours=1))
    add_schedule()
    alert_task_ensure_scheduled()
    assert len(schedules()) == 1


def test_a_running_task_is_never_deleted_and_its_next_repetition_is_left_alone():
    running = add_schedule(locked_by="12345", locked_at=timezone.now())
    add_schedule()  # what the library creates just before it deletes the running one
    assert alert_task_ensure_scheduled() == []
    assert {t.pk for t in schedules()} >= {running.pk}
    assert len(schedules()) == 2


def test_duplicates_are_removed_with_one_conditional_delete():
    add_schedule()
    add_schedule()
    with CaptureQueriesContext(connection) as queries:
        alert_task_ensure_scheduled()
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE FROM \"background_task\" WHERE")]
    assert any('"locked_by" IS NULL' in sql for sql in deletes)


def test_a_failed_schedule_is_replaced():
    add_schedule(failed_at=timezone.now(), attempts=25)
    alert_task_ensure_scheduled()
    [task] = schedules()
    assert task.failed_at is None


def test_a_backed_off_schedule_is_brought_back_to_now():
    add_schedule(run_at=timezone.now() + timedelta(minutes=10), attempts=3)
    alert_task_ensure_scheduled()
    [task] = schedules()
    assert task.run_at <= timezone.now()
    assert task.attempts == 0


def test_completed_repetitions_are_pruned_after_ten_minutes():
    for minutes in (1, 20):
        CompletedTask.objects.create(task_name=TASK_NAME, task_params="[[], {}]", task_hash="x",
                                     run_at=timezone.now() - timedelta(minutes=minutes))
    alert_task_ensure_scheduled()
    assert CompletedTask.objects.filter(task_name=TASK_NAME).count() == 1


def test_the_library_runs_the_task_and_schedules_its_next_repetition_a_second_later():
    alert_task_ensure_scheduled()
    [first] = schedules()
    assert tasks.run_next_task()
    [second] = schedules()
    assert second.pk != first.pk
    assert second.run_at == first.run_at + timedelta(seconds=1)
    assert Heartbeat.objects.get(process=Heartbeat.Process.WORKER).state == "running"


def test_a_pass_refreshes_the_heartbeat_so_health_says_running():
    assert run_evaluation_pass()
    assert health_report()["worker"] == "running"


def test_a_failing_pass_never_raises_and_health_says_stopped(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("alerts.tasks.alerts_evaluate", broken)
    assert run_evaluation_pass() is False
    beat = Heartbeat.objects.get(process=Heartbeat.Process.WORKER)
    assert beat.state == "failing"
    assert "boom" in beat.details["error"]
    assert health_report()["worker"] == "stopped"
    monkeypatch.undo()
    assert run_evaluation_pass()
