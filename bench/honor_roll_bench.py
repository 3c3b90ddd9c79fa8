"""Time an honor roll's computation on generated data: `python bench/honor_roll_bench.py`.

    .venv/bin/python bench/honor_roll_bench.py --scale small|medium|campaign [--database-url URL] [--data-dir DIR]
                                              [--runs 5] [--publish]

Uses bench/generate.py's data set (generated into --data-dir, default /tmp/villageaid-bench-<scale>, when
the folder has none; the same folder bench/run.py uses), adds an edition of the campaign year its
deliveries were verified in (every generated delivery is verified "now"), and times, median of --runs
after one warm-up:

- aggregate: the per-category SQL aggregates over the period's verified deliveries, scoring and
  ranking in Python (`compute.compute_all`) — what grows with the number of deliveries;
- job: the whole computation job (`compute.run`): the aggregates, the deliveries behind every kept
  candidate, and replacing the candidates in one transaction.

It prints the deliveries in scope, the candidates per category, both times (wall, this process's CPU,
and with PostgreSQL on this machine the server's CPU, read from /proc), and last

    bench-honor-roll: deliveries=N aggregate_s=S job_s=S aggregate_cpu_s=S job_cpu_s=S

With --publish it then takes the computed draft through the lifecycle to publication, as curators
would (a citation for every honoree, 公示, publication once the notice period is over), so that
/honor-roll shows a real roll: bench/run.py does this before measuring the honor roll in spike mode.

The goal (issue: scale and proof): under 2 s for 1M deliveries. Not a test: run it by hand.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    args = _arguments(argv)
    data_dir = Path(args.data_dir or f"/tmp/villageaid-bench-{args.scale}")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATA_DIR", str(data_dir))
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from villageaid import create_app
    from villageaid.extensions import db

    app = create_app({"SCHEDULER_INTERVAL_SECONDS": 0})
    with app.app_context():
        upgrade()
        from villageaid.organizations.models import Organization

        if not db.session.scalar(select(func.count()).select_from(Organization)):
            db.session.remove()
            sys.path.insert(0, str(ROOT / "bench"))
            import generate

            print(f"generating the {args.scale} data set in {data_dir} …", flush=True)
            generate.main(["--scale", args.scale] + (["--database-url", args.database_url] if args.database_url else []))
        measure(args.runs)
        if args.publish:
            publish()


def _edition():
    from sqlalchemy import select

    from villageaid.accounts.models import Role, RoleGrant
    from villageaid.campaign.services import campaign_year
    from villageaid.extensions import db
    from villageaid.honor_roll import lifecycle as roll
    from villageaid.honor_roll.models import HonorRollEdition

    year = campaign_year().year
    edition = db.session.scalar(select(HonorRollEdition).where(HonorRollEdition.year == year))
    if edition is None:
        grant = db.session.scalar(select(RoleGrant).where(RoleGrant.role == Role.ADMIN))
        admin = grant.user if grant else _bench_admin()
        edition = roll.create_edition(admin, year)
    return edition


def _bench_admin():
    """The generated data has curators only: an admin of the benchmark's own creates the edition."""
    from villageaid.accounts import services as accounts
    from villageaid.accounts.models import Role
    from villageaid.extensions import db

    user = accounts.find_by_email("bench-admin@example.cn") or accounts.register(
        "bench-admin@example.cn", "基准测试管理员", "bench-pass-2026")
    accounts.grant(user, Role.ADMIN)
    db.session.commit()
    return user


def publish():
    """The year's edition from its last computation to published, through the lifecycle functions."""
    from datetime import timedelta

    from sqlalchemy import select

    from villageaid.accounts.models import Role, RoleGrant
    from villageaid.extensions import db
    from villageaid.honor_roll import lifecycle as roll
    from villageaid.honor_roll.models import EditionStatus
    from villageaid.timeutil import utcnow

    edition = _edition()
    if edition.status == EditionStatus.PUBLISHED.value:
        print(f"honor roll {edition.year}: already published")
        return
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.role == Role.ADMIN))
    admin = grant.user if grant else _bench_admin()
    started = time.perf_counter()
    for category, rows in roll.standings(edition):
        for rank, candidate in rows:
            if not candidate.citation:
                roll.set_citation(admin, candidate, f"{category.name}第 {rank} 名：基准测试数据中核实的帮扶。")
    # The notice period as if it had begun notice_days ago, so that the roll is published now, not in the future.
    roll.start_notice(admin, edition, now=utcnow() - timedelta(days=edition.notice_days, minutes=1))
    revision = roll.publish(admin, edition)
    print(f"honor roll {edition.year}: published revision {revision.number} with "
          f"{sum(len(rows) for _category, rows in roll.standings(edition))} honorees in "
          f"{time.perf_counter() - started:.1f} s")


def measure(runs=5):
    """Time the aggregate and the whole job on the database of the current app; print the figures."""
    from sqlalchemy import func, select

    from villageaid.extensions import db
    from villageaid.honor_roll import compute
    from villageaid.honor_roll.models import HonorRollCandidate, HonorRollComputation
    from villageaid.pledges.models import Delivery

    edition = _edition()
    start, end = compute.period_bounds(edition)
    in_scope = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == "verified", Delivery.decided_at >= start, Delivery.decided_at < end))
    total = db.session.scalar(select(func.count()).select_from(Delivery))
    print(f"{db.engine.dialect.name}: {total:,} deliveries, {in_scope:,} verified in the {edition.year} period")

    def aggregate():
        return compute.compute_all(edition)

    def job():
        computation = HonorRollComputation(edition_id=edition.id, steps_total=len(edition.categories) + 1)
        db.session.add(computation)
        db.session.commit()
        compute.run(computation.id)

    figures = {}
    for name, work in (("aggregate", aggregate), ("job", job)):
        work()  # warm-up: the database's pages into memory, as on a server that has been running
        times, cpu, server = [], [], []
        for _ in range(runs):
            started_server = server_cpu()
            started, started_cpu = time.perf_counter(), time.process_time()
            work()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if started_server is not None:  # read after the clocks: the reading is not the work
                server.append(server_cpu() - started_server)
        # On SQLite the database runs in this process, so its CPU time is the work itself, whatever else
        # the machine is doing; PostgreSQL's runs in the server, whose CPU is read from /proc when it
        # runs on this machine.
        on_server = f", {statistics.median(server):.3f} s CPU in the server" if server else ""
        print(f"  {name:<10} median {statistics.median(times):.3f} s wall, {statistics.median(cpu):.3f} s CPU here"
              f"{on_server}  (wall min {min(times):.3f}, max {max(times):.3f})")
        figures[name] = (statistics.median(times), statistics.median(cpu))
    for category in edition.categories:
        kept = db.session.scalar(select(func.count()).select_from(HonorRollCandidate)
                                 .where(HonorRollCandidate.category_id == category.id))
        print(f"  {category.name}: {kept} candidates kept (quota {category.quota})")
    (aggregate_s, aggregate_cpu), (job_s, job_cpu) = figures["aggregate"], figures["job"]
    print(f"bench-honor-roll: deliveries={in_scope} aggregate_s={aggregate_s:.3f} job_s={job_s:.3f} "
          f"aggregate_cpu_s={aggregate_cpu:.3f} job_cpu_s={job_cpu:.3f}")
    return {"deliveries": in_scope, "aggregate_s": aggregate_s, "job_s": job_s, "aggregate_cpu_s": aggregate_cpu,
            "job_cpu_s": job_cpu}


def server_cpu():
    """PostgreSQL on this machine: the CPU seconds used so far by the server processes connected to this
    database (the benchmark's own copy; a parallel worker's time is lost when it exits). None elsewhere."""
    from sqlalchemy import text

    from villageaid.extensions import db

    if db.engine.dialect.name != "postgresql":
        return None
    with db.engine.connect() as connection:  # not the session's: its transaction and objects stay as they are
        pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # another machine's server, or not ours to read
            return None
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "medium", "campaign"), default="small")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the data folder)")
    parser.add_argument("--data-dir", help="default /tmp/villageaid-bench-<scale>")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--publish", action="store_true", help="then publish the computed edition")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
