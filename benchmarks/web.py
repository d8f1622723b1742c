"""Benchmark of the web app: page latency with 20 signed-in people at once.

    .venv/bin/python benchmarks/web.py              # scale S: 2,000 accounts
    .venv/bin/python benchmarks/web.py --scale M    # 20,000 accounts
    .venv/bin/python benchmarks/web.py --pages accounts,account --requests 400

A company is published into an app database through the real publish functions, 14 days of
it (`web_world.py`: snapshots with 24 months of ARR history, health and churn risk, the book,
the account page's detail; seeded, so the same arguments give the same database). The app
is then served as `quarterdeck serve` serves it (uvicorn, one process) on loopback, 20
clients sign in, each with a session of its own, and for each page in turn all 20 ask for it
at once, each sending its next request as soon as its last is answered, until `--requests`
have been answered (after one unmeasured request each). Pages that name an account ask for a
different account each time; a search asks for a different word.

Printed per page: requests, errors, p50, p95 and p99 latency in ms, requests per second,
the mean response size, and the baseline: the p95 of `/healthz` (a database round trip and
nothing else: the floor of the server stack) measured the same way just before the page, and
the page's p95 as a multiple of it. Also the machine's load average before and after, and the
server's peak RSS. The clients run on the same machine, so a busy machine slows both; the
ratio keeps its meaning. Target: every page's p95 under 100 ms at 20,000 accounts.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import psutil
from run import BIN, measure
from web_world import ADMIN, CSMS, OPS, PASSWORD, WORDS, csm_email

SCALES = {"S": 2000, "M": 20000}  # accounts
DAYS = 14
CLIENTS = 20
REQUESTS = 200  # per page
TARGET_MS = 100.0
SEED = 7


@dataclass(frozen=True)
class Page:
    """A page to measure: a name for `--pages`, the URL of each request, who asks."""

    name: str
    url: Callable[[random.Random], str]
    role: str = "csm"  # csm: 20 CSMs, each their own book; ops: the whole book


def search_term(rng: random.Random) -> str:
    """What someone types in the search box: the start of a word of account names, 3 to 6
    letters (about 150 different searches, most seen once in a run)."""
    word = rng.choice(WORDS).lower()
    return word[:rng.randint(3, min(6, len(word)))]


def core_pages(accounts: int) -> list[Page]:
    """The pages people use every day, with the queries that vary."""
    def account(rng: random.Random) -> str:
        return f"acct-{rng.randint(1, accounts):06d}"

    return [
        Page("home", lambda r: "/"),
        Page("home_whole_book", lambda r: "/", "ops"),
        Page("accounts", lambda r: "/accounts"),
        Page("accounts_by_health", lambda r: "/accounts?sort=health"),
        Page("accounts_by_churn_risk", lambda r: "/accounts?sort=-churn_risk"),
        Page("accounts_red", lambda r: "/accounts?band=red"),
        Page("accounts_search", lambda r: f"/accounts?q={search_term(r)}"),
        Page("accounts_later_page", lambda r: f"/accounts?page={r.randint(2, 30)}"),
        Page("account", lambda r: f"/accounts/{account(r)}"),
        Page("operations", lambda r: "/operations"),
        Page("quality", lambda r: "/quality"),
        Page("api_accounts", lambda r: "/api/accounts"),
        Page("api_account", lambda r: f"/api/accounts/{account(r)}"),
        Page("api_home", lambda r: "/api/home"),
        Page("api_home_whole_book", lambda r: "/api/home", "ops"),
    ]


def all_pages(accounts: int) -> list[Page]:
    """The core pages, then every other GET route the app declares (`permissions.ROUTES`),
    so a page added later is measured too."""
    from quarterdeck.app.permissions import PUBLIC, ROUTES, has_permission

    pages = core_pages(accounts)
    covered = {"/", "/accounts", "/accounts/{account_id:path}", "/operations", "/quality",
               "/api/accounts", "/api/accounts/{account_id:path}", "/api/home"}
    for (method, path), permission in sorted(ROUTES.items(), key=lambda kv: kv[0][1]):
        if method != "GET" or permission == PUBLIC or path in covered:
            continue
        head, _, rest = path.partition("{account_id:path}")
        if "{" in head or "{" in rest:
            continue  # an id we cannot choose at random
        name = path.strip("/").replace("/", "_").replace("{account_id:path}", "id") or "root"
        role = next(r for r in ("csm", "ops", "admin") if has_permission(r, permission))
        if "{account_id:path}" in path:
            pages.append(Page(name, lambda r, h=head, t=rest:
                              f"{h}acct-{r.randint(1, accounts):06d}{t}", role))
        else:
            pages.append(Page(name, lambda r, p=path: p, role))
    return pages


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: dict[int, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        k = min(len(data) - 1, max(0, round(q / 100 * len(data)) - 1))
        return data[k] * 1000


def sign_in(base: str, email: str) -> httpx.Client:
    """A client with a session of its own, signed in through the login form."""
    import re

    client = httpx.Client(base_url=base, timeout=600)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if token is None:
        raise SystemExit("no CSRF token on /login")
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token.group(1), "next": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"signing in {email} failed: {answer.status_code}")
    return client


def drive(clients: list[httpx.Client], page: Page, requests: int, seed: int,
          think: float = 0.0) -> Result:
    """All clients ask for `page` at once until `requests` are answered (after one unmeasured
    request each). With `think` > 0 each client pauses between requests, as a person reads a
    page before the next click: a random pause, exponential with that mean in seconds."""
    result = Result(page.name)
    lock = threading.Lock()
    remaining = [requests]
    start = threading.Barrier(len(clients) + 1)

    def work(i: int, client: httpx.Client) -> None:
        rng = random.Random(f"{seed}:{page.name}:{i}")
        try:
            client.get(page.url(rng))  # warm: connection and caches, not measured
        finally:
            start.wait()
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            if think > 0:
                time.sleep(rng.expovariate(1 / think))
            url = page.url(rng)
            began = time.perf_counter()
            try:
                answer = client.get(url)
                status, size = answer.status_code, len(answer.content)
            except httpx.HTTPError:
                status, size = 0, 0  # no answer: counted as an error with code 0
            took = time.perf_counter() - began
            with lock:
                result.latencies.append(took)
                result.bytes += size
                if status != 200:
                    result.errors[status] = result.errors.get(status, 0) + 1

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


class Server:
    """`quarterdeck serve` on a free loopback port, with its peak RSS sampled."""

    def __init__(self, ws: Path, workers: int = 1) -> None:
        from quarterdeck.testing.live_server import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Its output goes to a file: a pipe nobody reads would block the server when full.
        self.log = ws.parent / "server.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([BIN, "serve", "--workspace", ws, "--port",
                                          str(self.port), "--workers", str(workers)],
                                         stdout=log, stderr=subprocess.STDOUT)
        self.peak_mb = 0.0
        self._done = threading.Event()
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"the server did not start:\n{self.log.read_text()}")
            time.sleep(0.2)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        parent = psutil.Process(self.proc.pid)
        while not self._done.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                self.peak_mb = max(self.peak_mb, sum(p.memory_info().rss for p in procs) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> None:
        self._done.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _row(r: Result, baseline: Result | None) -> str:
    errors = sum(r.errors.values())
    base = f"{baseline.pct(95):>8.1f}{r.pct(95) / baseline.pct(95):>7.1f}" if baseline \
        else f"{'':>15}"
    flag = "" if r.pct(95) <= TARGET_MS else "  over"
    codes = f"  errors {r.errors}" if errors else ""
    return (f"{r.name:<26}{len(r.latencies):>5}{errors:>4}{r.pct(50):>8.1f}{r.pct(95):>8.1f}"
            f"{r.pct(99):>8.1f}{len(r.latencies) / r.seconds:>7.0f}"
            f"{r.bytes / max(1, len(r.latencies)) / 1024:>7.1f}{base}{flag}{codes}")


def prepare(root: Path, accounts: int, days: int, today: date, seed: int) -> None:
    """Initialise a workspace in `root` and build its app database (see web_world.py)."""
    subprocess.run([BIN, "init", root / "ws"], check=True, capture_output=True)
    secs, rss, out = measure([sys.executable, __file__, "--build", "--root", str(root),
                              "--accounts", str(accounts), "--days", str(days),
                              "--today", today.isoformat(), "--seed", str(seed)])
    counts = json.loads(out.strip().splitlines()[-1])
    (root / "meta.json").write_text(json.dumps({"accounts": accounts, "days": days,
                                                "today": today.isoformat(), "seed": seed,
                                                "rows": counts}))
    print(f"built the app database in {secs:.0f} s (peak RSS {rss:.0f} MB): "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
                      if v >= 1000), flush=True)


def _build(args: argparse.Namespace) -> None:
    from web_world import build

    ws = args.root / "ws"
    counts = build(f"sqlite:///{ws / 'data' / 'app.db'}", args.accounts, args.today,
                   args.days, args.seed, progress=lambda line: None)
    print(json.dumps(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--days", type=int, default=DAYS, help="published days")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="per page")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause in seconds between a client's requests (0: none)")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the last published day")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    parser.add_argument("--reuse", type=Path, help="a workspace root kept by --keep")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        _build(args)
        return
    root = args.reuse or Path(tempfile.mkdtemp(prefix="qd-bench-web-"))
    try:
        if not args.reuse:
            prepare(root, SCALES[args.scale], args.days, args.today, args.seed)
        meta = json.loads((root / "meta.json").read_text())
        accounts = meta["accounts"]
        pages = all_pages(accounts)
        if args.pages:
            wanted = args.pages.split(",")
            unknown = set(wanted) - {p.name for p in pages}
            if unknown:
                raise SystemExit(f"unknown pages {sorted(unknown)}; pages: "
                                 f"{', '.join(p.name for p in pages)}")
            pages = [p for p in pages if p.name in wanted]
        run(root, meta, pages, args)
    finally:
        if args.keep or args.reuse:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, meta: dict, pages: list[Page], args: argparse.Namespace) -> None:
    load = psutil.getloadavg()
    print(f"Quarterdeck web benchmark: {meta['accounts']:,} accounts, {meta['days']} published "
          f"days to {meta['today']}, {args.clients} clients, {args.requests} requests per "
          f"page, {f'{args.think:g} s mean pause between requests, ' if args.think else ''}"
          f"{args.workers} server process{'es' if args.workers > 1 else ''}, "
          f"{psutil.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f} at the start", flush=True)
    # A server that has run a while has its database in the page cache; a file just copied or
    # built may not (read cold, the account page's p95 tripled): read it once first.
    with (root / "ws" / "data" / "app.db").open("rb") as db:
        while db.read(1 << 24):
            pass
    server = Server(root / "ws", args.workers)
    try:
        emails = {"csm": [csm_email(i % CSMS) for i in range(args.clients)],
                  "ops": [OPS] * args.clients, "admin": [ADMIN] * args.clients}
        sessions: dict[str, list[httpx.Client]] = {}
        for role in sorted({p.role for p in pages} | {"csm"}):
            sessions[role] = [sign_in(server.base, e) for e in emails[role]]
        healthz = Page("healthz", lambda r: "/healthz")
        print(f"{'page':<26}{'reqs':>5}{'err':>4}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
              f"{'req/s':>7}{'KB':>7}{'base p95':>8}{'×base':>7}", flush=True)
        results, baselines = [], []
        for page in pages:
            probe = sessions[page.role][0].get(page.url(random.Random(args.seed)))
            if probe.status_code != 200:  # a route found in the table may need parameters
                print(f"{page.name:<26}skipped: a plain GET answers {probe.status_code}",
                      flush=True)
                continue
            # The floor measured just before each page: a load that comes and goes on the
            # machine moves both.
            baselines.append(drive(sessions[page.role], healthz, args.requests, args.seed,
                                   args.think))
            results.append(drive(sessions[page.role], page, args.requests, args.seed,
                                 args.think))
            print(_row(results[-1], baselines[-1]), flush=True)
        floor = statistics.median(b.pct(95) for b in baselines)
        worst = max(results, key=lambda r: r.pct(95))
        load = psutil.getloadavg()
        verdict = "within" if worst.pct(95) <= TARGET_MS else "over"
        print(f"baseline /healthz p95 {floor:.1f} ms (median over the pages); slowest page "
              f"{worst.name} p95 {worst.pct(95):.1f} ms: {verdict} the {TARGET_MS:.0f} ms "
              f"target; server peak RSS {server.peak_mb:.0f} MB; load average {load[0]:.1f} "
              f"{load[1]:.1f} {load[2]:.1f} at the end", flush=True)
        if args.json:
            args.json.write_text(json.dumps({
                "meta": meta, "clients": args.clients, "requests": args.requests,
                "baseline_p95_ms": floor, "server_peak_rss_mb": server.peak_mb,
                "load_average_end": load,
                "pages": {r.name: {"p50": r.pct(50), "p95": r.pct(95), "p99": r.pct(99),
                                   "errors": r.errors, "rps": len(r.latencies) / r.seconds,
                                   "baseline_p95": b.pct(95)}
                          for r, b in zip(results, baselines, strict=True)}}, indent=1))
        for clients in sessions.values():
            for c in clients:
                c.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
