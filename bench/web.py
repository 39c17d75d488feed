"""``make bench-web``: server time of every page and API call of the reading side, on two
years of summaries for 200 clinics (PostgreSQL).

``python -m bench.web [--clinics 200] [--days 730] [--repeat 20] [--reuse-data]`` fills a
database of its own (``emr_bench_web``; ``--database-url``, whose name must contain
``bench``) with summary and dimension rows made by :file:`web_data.sql` (deterministic,
about 1.2M ``staff_summary`` rows at the defaults), then requests each URL ``--repeat``
times per user, in rounds that request every (user, URL) pair once, through Django's
test client in this process — middleware, view,
queries, template rendering and, for CSV, the whole streamed body — and reports the
median and 95th percentile in milliseconds against the 100 ms target. Users: a superuser
(no row filter), a user granted one region (20 clinics) and one granted one clinic, both
without the permission to see small counts (suppression on). Writes
``bench/results/latest-web.md`` and a JSON file with every timing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/emr_bench_web"
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 100.0
START = dt.date(2024, 1, 1)


def urls(days: int, clinic: int, region: int, service: int = 1, group: int = 1) -> list[str]:
    """The pages and API calls measured: defaults, filters (a service or a role group
    alone too), ordering (by a measure too), big pages, the last page, CSV (and each
    user's middle pages, :func:`middle_pages`)."""
    last = START + dt.timedelta(days=days - 1)
    month = f"day_from={last.replace(day=1)}&day_to={last}"
    return [
        "/", f"/?region={region}", "/clinics/", f"/clinics/?region={region}&ordering=-pph_rank",
        f"/clinics/{clinic}/", f"/clinics/{clinic}/?day_from={START}&day_to={last}", "/outliers/", "/staff/",
        f"/staff/?clinic={clinic}", "/regions/", "/builds/",
        "/api/staff-summary/", f"/api/staff-summary/?region={region}&{month}&ordering=-day",
        "/api/staff-summary/?page_size=1000", f"/api/staff-summary/?service={service}", "/api/staff-cost-summary/",
        f"/api/staff-cost-summary/?role_group={group}", f"/api/staff-cost-summary/?clinic={clinic}",
        "/api/clinic-days/", f"/api/clinic-days/?region={region}&{month}", "/api/clinic-scores/",
        "/api/clinic-scores/?outlier=true&ordering=-day", "/api/region-months/",
        f"/api/clinic-days/?clinic={clinic}&{month}&format=csv",
        # The last page (read from the end); an order by a measure, largest first (its
        # index) and smallest first (the index read backwards, each run of equal values
        # sorted by id), on both big summaries (docs/web.md, "Speed").
        "/api/staff-summary/?page=last", "/api/staff-summary/?ordering=-visit_minutes",
        "/api/staff-summary/?ordering=visit_minutes", "/api/staff-cost-summary/?ordering=-staff_cost",
        "/api/staff-cost-summary/?ordering=rostered_hours",
    ]


def middle_pages(client) -> list[str]:
    """The page in the middle of the user's unfiltered listings, the farthest from both
    ends: of both big summaries through the API (100 rows a page) and of the longest
    listing a page paginates (the outliers, 25 a page)."""
    out = []
    for listing, counted, size in (("/api/staff-summary/", "/api/staff-summary/", 100),
                                   ("/api/staff-cost-summary/", "/api/staff-cost-summary/", 100),
                                   ("/outliers/", "/api/clinic-scores/?outlier=true", 25)):
        pages = -(-client.get(counted).json()["count"] // size)
        out.append(f"{listing}?page={max(1, (pages + 1) // 2)}")
    return out


def fill(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    regions = max(1, args.clinics // 20)
    script = (Path(__file__).resolve().parent / "web_data.sql").read_text()
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(script, {"regions": regions, "clinics": args.clinics, "days": args.days, "start": START})
        for table in ("dim_location", "staff_summary", "staff_cost_summary", "clinic_day", "clinic_score",
                      "region_month"):
            cur.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")  # project table names only
    print(f"filled {args.clinics} clinics x {args.days} days in {time.perf_counter() - started:.1f} s", flush=True)


def users():
    from django.contrib.auth.models import User
    from etl.models import Location, LocationGrant

    clinic = Location.objects.filter(kind="clinic").order_by("id").first()
    out = {}
    for name, grant in (("superuser", None), ("one region", clinic.region_id), ("one clinic", clinic.id)):
        user, _ = User.objects.get_or_create(username=f"bench {name}")
        user.is_superuser = grant is None
        user.save()
        if grant is not None:
            LocationGrant.objects.get_or_create(user=user, location_id=grant)
        out[name] = user
    return out, clinic


class Collections:
    """Time spent in the garbage collector (``gc.callbacks``), by generation, so a slow
    request can be told apart from a request that paid for a collection."""

    def __init__(self):
        self.ms = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._started) * 1000
        generation = info["generation"]
        self.ms[generation] += ms
        self.count[generation] += 1
        self.longest[generation] = max(self.longest[generation], ms)

    def total(self) -> float:
        return sum(self.ms)


COLLECTIONS = Collections()


def fetch(client, url: str) -> tuple[float, int, int, float]:
    """One request: (milliseconds, status, bytes of the whole body, streamed or not,
    milliseconds of it spent in the garbage collector)."""
    in_gc = COLLECTIONS.total()
    started = time.perf_counter()
    response = client.get(url)
    size = sum(len(c) for c in response.streaming_content) if response.streaming else len(response.content)
    return (time.perf_counter() - started) * 1000, response.status_code, size, COLLECTIONS.total() - in_gc


def measure(pairs: list[tuple[str, object, str]], repeat: int) -> list[dict]:
    """Time every (user, client, URL) pair ``repeat`` times, round-robin: each round
    requests every pair once, so a burst of other work on the machine spreads over all
    pairs instead of landing on the few that happened to run during it."""
    from django.db import connection
    from etl.web.collector import settle

    rows = []
    # Warm-up: templates, the connection, the API's schema, and what a listing keeps from
    # one request to the next until the next build (day counts, a measure order's first
    # ids: etl.web.paging); its time is what the first reader after a build pays.
    first = [fetch(client, url)[0] for _, client, url in pairs]
    settle()  # as the server does after its first requests (etl.web.collector)
    for (who, client, url), first_ms in zip(pairs, first):
        queries: list[str] = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            _, status, size, _ = fetch(client, url)
        rows.append({"url": url, "user": who, "status": status, "bytes": size, "queries": len(queries), "runs": [],
                     "gc_ms": [], "first_ms": first_ms})
    COLLECTIONS.__init__()  # count the measured rounds only
    for _ in range(repeat):
        for row, (_, client, url) in zip(rows, pairs):
            ms, _, _, gc_ms = fetch(client, url)
            row["runs"].append(ms)
            row["gc_ms"].append(gc_ms)
    for row in rows:
        row["in_round_order"] = list(row["runs"])  # a burst of other work shows as slow rounds
        # Each run's GC time stays beside its time (sorted together).
        pairs_sorted = sorted(zip(row["runs"], row["gc_ms"]))
        times = row["runs"] = [t for t, _ in pairs_sorted]
        row["gc_ms"] = [g for _, g in pairs_sorted]
        row.update(median_ms=statistics.median(times), max_ms=times[-1],
                   p95_ms=times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WEB_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--clinics", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse-data", action="store_true", help="keep the rows of a previous run")
    args = parser.parse_args(argv)
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        print("the bench database's name must contain 'bench' (its tables are truncated)", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = args.database_url
    # Persistent connections, as a production server would run (a new PostgreSQL
    # connection per request costs several ms on its own).
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django
    django.setup()
    from django.test import Client
    from etl.web.collector import settle

    if not args.reuse_data:
        fill(args)
    people, clinic = users()
    settle()  # as project/wsgi.py does once the server has started
    gc.callbacks.append(COLLECTIONS)
    pairs = []
    for who, user in people.items():
        client = Client(HTTP_HOST="localhost")  # an ALLOWED_HOSTS name
        client.force_login(user)
        pairs += [(who, client, url) for url in urls(args.days, clinic.id, clinic.region_id) + middle_pages(client)]
    load_before = os.getloadavg()[0]
    rows = measure(pairs, args.repeat)
    for r in rows:
        print(f"{r['user']:<11} {r['url']:<70} {r['status']} p50 {r['median_ms']:7.1f} ms"
              f"  p95 {r['p95_ms']:7.1f} ms  {r['queries']:>2} queries", flush=True)
    return write(args, rows, load_before)


def write(args, rows, load_before: float) -> int:
    from django.db import connection

    slow = [r for r in rows if r["p95_ms"] > TARGET_MS or r["status"] != 200]
    stamp = dt.datetime.now(dt.timezone.utc)
    load = os.getloadavg()[0]
    header = (f"bench web: {args.clinics} clinics x {args.days} days; {args.repeat} requests per URL and user "
              f"after one warm-up, in rounds that request every pair once; {os.cpu_count()} CPUs, load average "
              f"{load_before:.1f} at the start and {load:.1f} at the end (other work on the machine inflates every "
              f"figure); PostgreSQL {connection.pg_version // 10000}; {stamp:%Y-%m-%d %H:%M} UTC")
    lines = [f"> {header}", "", "| user | URL | status | queries | p50 ms | p95 ms | longest GC ms | first ms |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['user']} | `{r['url']}` | {r['status']} | {r['queries']} | {r['median_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {max(r['gc_ms']):.1f} | {r['first_ms']:.1f} |" for r in rows]
    worst = max(rows, key=lambda r: r["p95_ms"])
    verdict = "met" if not slow else "NOT met"
    failed = [r for r in rows if r["status"] != 200]
    if failed:
        print(f"{len(failed)} requests did not answer 200, e.g. {failed[0]['url']}: {failed[0]['status']}")
    lines += ["", f"- **{verdict}** — every page and API call under {TARGET_MS:.0f} ms at the 95th percentile: "
              f"worst {worst['p95_ms']:.1f} ms (`{worst['url']}`, {worst['user']}); {len(slow)} of {len(rows)} over"]
    cold = max(rows[1:] or rows, key=lambda r: r["first_ms"])  # the very first request also starts the process's caches
    lines.append(f"- first request of each pair (the warm-up: what the first reader after a build pays, kept day counts "
                 f"and first ids computed then; the table's last column): worst {cold['first_ms']:.1f} ms "
                 f"(`{cold['url']}`, {cold['user']}), {sum(1 for r in rows if r['first_ms'] > TARGET_MS)} of "
                 f"{len(rows)} over {TARGET_MS:.0f} ms")
    over = [(t, g) for r in rows for t, g in zip(r["runs"], r["gc_ms"]) if t > TARGET_MS]
    c = COLLECTIONS
    lines.append(f"- garbage collector during the measured requests: {c.count[0]}/{c.count[1]}/{c.count[2]} "
                 f"collections of generation 0/1/2 taking {c.ms[0]:.0f}/{c.ms[1]:.0f}/{c.ms[2]:.0f} ms in all, the "
                 f"longest {c.longest[2]:.1f} ms (generation 2); {len(over)} of {sum(len(r['runs']) for r in rows)} "
                 f"requests over {TARGET_MS:.0f} ms, {sum(1 for _, g in over if g >= 10)} of them with 10 ms or more of "
                 f"collection")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest-web.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"web-{stamp:%Y%m%dT%H%M%SZ}.json").write_text(json.dumps(
        {"header": header, "platform": platform.platform(), "rows": rows,
         "gc": {"count": c.count, "ms": c.ms, "longest_ms": c.longest, "threshold": gc.get_threshold()}}, indent=1))
    print("\n".join(lines[-3:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
