"""``manage.py grant_locations USERNAME LOCATION_ID... [--revoke]``: let a user read the
summaries of these locations and of every location under them (or stop it)."""
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from etl.management.base import MIGRATIONS, EtlCommand
from etl.models import Location, LocationGrant


class Command(EtlCommand):
    help = "Grant (or --revoke) a user's access to locations and every location under them."

    needs = (MIGRATIONS,)  # grants and the location dimension live in Django's database

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("location_ids", nargs="+", type=int, metavar="LOCATION_ID")
        parser.add_argument("--revoke", action="store_true", help="remove these grants instead")

    def handle(self, *args, username, location_ids, revoke, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if revoke:
            removed, _ = LocationGrant.objects.filter(user=user, location_id__in=location_ids).delete()
            self.stdout.write(f"{username}: {removed} grant(s) revoked")
            return
        known = set(Location.objects.filter(id__in=location_ids).values_list("id", flat=True))
        unknown = sorted(set(location_ids) - known)
        if unknown:
            raise CommandError(
                f"no location {', '.join(map(str, unknown))} in the location dimension (run build_summaries first)"
            )
        added = [i for i in location_ids
                 if LocationGrant.objects.get_or_create(user=user, location_id=i)[1]]
        names = ", ".join(Location.objects.get(id=i).name for i in location_ids)
        self.stdout.write(f"{username}: may read {names} and everything under them ({len(added)} new grant(s))")
