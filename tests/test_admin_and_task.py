"""The admin is read-only and needs a login; the Celery task calls the service."""
from django.contrib.auth.models import User

from etl.models import BuildRun, StaffSummary
from etl.tasks import build_summaries as build_task

from . import handmade


def test_admin_needs_login_and_is_read_only(emr, client):
    handmade.load()
    build_task.apply(kwargs={"trigger": "manual"}).get()
    response = client.get("/admin/etl/buildrun/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    User.objects.create_superuser("op", "op@example.org", "pw")
    client.login(username="op", password="pw")
    listing = client.get("/admin/etl/buildrun/")
    assert listing.status_code == 200
    assert b"succeeded" in listing.content
    run = BuildRun.objects.get()
    assert client.get(f"/admin/etl/buildrun/{run.pk}/change/").status_code == 200
    assert client.post(f"/admin/etl/buildrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/etl/buildrun/add/").status_code == 403
    assert client.get("/admin/etl/staffsummary/").status_code == 200


def test_task_builds_and_reports(emr):
    handmade.load()
    result = build_task.apply(kwargs={"trigger": "schedule"}).get()
    assert result["status"] == "succeeded"
    assert result["summaries"]["staff_summary"] == {"mode": "full", "days": 2, "rows_written": 6}
    assert StaffSummary.objects.count() == 6
    assert BuildRun.objects.get().trigger == "schedule"
