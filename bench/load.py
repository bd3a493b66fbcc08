"""The load generator: logged-in HTTP clients, and figures from the server's own processes.

- CPU per request: the gunicorn workers' CPU time (the master's children, every thread, from
  ``/proc/<pid>/task/*/schedstat`` in nanoseconds, or ``stat`` ticks) before and after a batch,
  divided by the batch's requests.
- Queries per request: the ``X-Bench-Queries`` header bench/server.py adds.
- Latency: measured by the client (p50, p99).
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from bench.server import FLOOR_PREFIX, QUERIES_HEADER

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
#: seconds a client waits for an answer (a year's XLSX export at scale 1 takes minutes).
TIMEOUT = 600


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def queries(self) -> int | None:
        raw = self.headers.get(QUERIES_HEADER)
        return int(raw) if raw is not None else None


class Client:
    """A browser's cookies on one server: anonymous, or logged in through the login form."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: SimpleCookie = SimpleCookie()
        self.csrf = ""

    def send(self, method: str, path: str, data: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, *, keep_cookies: bool = True) -> Answer:
        sent = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.cookies.items()),
                **(headers or {})}
        body = urllib.parse.urlencode(data) if data is not None else None
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            start = time.perf_counter()
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read()
            seconds = time.perf_counter() - start
        finally:
            connection.close()
        if keep_cookies:
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
        return Answer(response.status, response.headers, content, seconds)

    def post(self, path: str, data: dict[str, str] | None = None) -> Answer:
        """An action as htmx sends it (the cookie is left as it is: threads share it)."""
        return self.send("POST", path, data or {}, {"HX-Request": "true",
                                                    "X-CSRFToken": self.csrf},
                         keep_cookies=False)

    def log_in(self, identifier: str, password: str, page: str) -> Client:
        form = self.send("GET", "/connexion").text
        found = _CSRF.search(form)
        if not found:
            raise RuntimeError("no CSRF token on the login page")
        answer = self.send("POST", "/connexion", {"csrf_token": found.group(1),
                                                  "identifier": identifier,
                                                  "password": password})
        if answer.status != 303:
            raise RuntimeError(f"{identifier} could not log in: {answer.status}")
        landing = self.send("GET", page)
        found = _CSRF.search(landing.text)
        if landing.status != 200 or not found:
            raise RuntimeError(f"{identifier} cannot open {page}: {landing.status}")
        self.csrf = found.group(1)
        return self


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's descendants: its workers and what they started (a PDF worker)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [master]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def cpu_ns(master: int) -> int:
    """CPU time (ns) used so far by every thread of the master's descendants."""
    total = 0
    for pid in worker_pids(master):
        try:
            # what its ended children used (a render process that already exited)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[13]) + int(fields[14])) * _TICK_NS
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
            for task in tasks:
                try:
                    total += int((task / "schedstat").read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                    total += (int(fields[11]) + int(fields[12])) * _TICK_NS
        except OSError:
            continue  # a thread or worker that just ended
    return total


def _memory_kb(pid: int, field: str) -> int | None:
    """A ``/proc/<pid>/status`` memory line (``VmRSS``, ``VmHWM``) in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_memory_growth(master: int, request: Callable[[], Answer]) -> tuple[float | None, Answer]:
    """How far (MB) a request takes the worker serving it above its resident memory: each
    worker's peak (``VmHWM``) is reset to its resident size (``clear_refs`` 5) before, read
    after; the largest growth of any worker. ``None`` where the kernel refuses the reset."""
    before: dict[int, int] = {}
    for pid in worker_pids(master):
        resident = _memory_kb(pid, "VmRSS")
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            continue
        if resident is not None:
            before[pid] = resident
    answer = request()
    growths = [peak - before[pid] for pid in before
               if (peak := _memory_kb(pid, "VmHWM")) is not None]
    return (max(growths) / 1024 if growths else None), answer


Request = Callable[[int], Answer]


@dataclass
class Batch:
    cpu_ms: float  # per request
    latencies: list[float] = field(default_factory=list)  # ms
    queries: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def run_batch(master: int, request: Request, count: int, threads: int) -> Batch:
    """``count`` requests (request(i) for i in range(count)) over ``threads`` threads."""
    answers: list[Answer | None] = [None] * count
    errors: list[BaseException] = []

    def work(first: int) -> None:
        try:
            for i in range(first, count, threads):
                answers[i] = request(i)
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(min(threads, count))]
    before = cpu_ns(master)
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    after = cpu_ns(master)
    if errors:
        raise errors[0]
    done = [a for a in answers if a is not None]
    return Batch(cpu_ms=(after - before) / 1e6 / max(count, 1),
                 latencies=[a.seconds * 1000 for a in done],
                 queries=[a.queries for a in done if a.queries is not None],
                 statuses=[a.status for a in done])


def floor_request(client: Client, size: int) -> Request:
    return lambda _i: client.send("GET", f"{FLOOR_PREFIX}/{size}", keep_cookies=False)


@dataclass
class Figure:
    name: str
    value: float | None  # None: could not be measured here (the note says why)
    floor: float | None
    queries: float | None
    p50: float | None
    p99: float | None
    statuses: dict[int, int] = field(default_factory=dict)
    size: int | None = None
    note: str = ""
    unit: str = "CPU ms/request"


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def compare(name: str, master: int, floor_client: Client, request: Request, *, count: int,
            rounds: int, threads: int, size: int | None,
            expected: set[int], between: Callable[[], None] | None = None) -> Figure:
    """Floor and page batches interleaved (F P F P …), medians of ``rounds``."""
    page_cpu, floor_cpu, latencies, queries = [], [], [], []
    statuses: dict[int, int] = {}
    for _round in range(rounds):
        if size is not None:
            floor_cpu.append(run_batch(master, floor_request(floor_client, size), count,
                                       threads).cpu_ms)
        batch = run_batch(master, request, count, threads)
        page_cpu.append(batch.cpu_ms)
        latencies += batch.latencies
        queries += batch.queries
        for status in batch.statuses:
            statuses[status] = statuses.get(status, 0) + 1
        if between is not None:
            between()
    unexpected = {s: n for s, n in statuses.items() if s not in expected}
    if unexpected:
        raise RuntimeError(f"{name}: unexpected answers {unexpected} (expected {expected})")
    return Figure(name=name, value=statistics.median(page_cpu),
                  floor=statistics.median(floor_cpu) if floor_cpu else None,
                  queries=statistics.median(queries) if queries else None,
                  p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99),
                  statuses=statuses, size=size)
