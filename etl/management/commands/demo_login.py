"""``manage.py demo_login``: the demo's two logins, for trying the dashboards on demo data.

``demo`` is a superuser (sees everything, small counts included); ``manager`` is granted
the first clinic only and sees small counts suppressed. Both passwords are the user
names: for demo databases only, never for real data.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from etl.management.base import MIGRATIONS, EtlCommand
from etl.models import Location, LocationGrant


class Command(EtlCommand):
    help = "Create (or reset) the demo logins: demo (superuser) and manager (one clinic)."

    needs = (MIGRATIONS,)  # users, grants and the location dimension: Django's database

    def handle(self, *args, **options):
        users = get_user_model()
        clinic = Location.objects.filter(kind="clinic").order_by("id").first()
        if clinic is None:
            raise CommandError("no clinic in the location dimension: run build_summaries on the demo data first")
        demo, _ = users.objects.get_or_create(username="demo")
        demo.is_superuser = demo.is_staff = True
        demo.set_password("demo")
        demo.save()
        manager, _ = users.objects.get_or_create(username="manager")
        manager.set_password("manager")
        manager.save()
        LocationGrant.objects.filter(user=manager).delete()
        LocationGrant.objects.create(user=manager, location_id=clinic.id)
        self.stdout.write("demo logins (make serve, then http://127.0.0.1:8000/):")
        self.stdout.write("  demo / demo        superuser: every location, small counts shown")
        self.stdout.write(f"  manager / manager  granted {clinic.name} only, small counts shown as <11")
