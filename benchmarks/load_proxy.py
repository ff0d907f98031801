"""`load_app.py --instances N`: the app scaled out (N `trainer serve` processes on one PostgreSQL, behind
nginx, as `scripts/scale-out` starts them), measured in one run:

1. saturation with 1 instance, then with N: reps send turns with no pause; turns/s and p95;
2. N instances at a human pace: p95 against the model's delay, errors;
3. N instances at a human pace with the busiest instance killed (SIGKILL) mid-run: each rep whose page
   dies reloads (a new page: load, its unfinished session, resume) and goes on, re-sending the one turn
   in flight only if the database does not have it; then the database is checked for lost turns and
   sessions.

Every rep signs in as their own user through nginx, so sticky routing and shared sign-ins are exercised.
All reps run in one asyncio event loop here (see asynchttp.py), each with its own cookie jar.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asynchttp import Client
from loadkit import LINES, Gate, Page, cpu_seconds, percentile, tree_cpu_seconds

PASSWORD = "load-test-password"
RECOVER_WITHIN = 60.0  # seconds a rep keeps reloading after its instance died


@dataclass
class Rep:
    """What one simulated rep did, as the rep saw it."""

    user: str
    confirmed: int = 0  # turns the rep knows the app kept: answered, or found on reload
    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # perf_counter() when each answer came
    errors: list[str] = field(default_factory=list)
    moved: bool = False  # its page died and it continued on another instance
    resent: int = 0  # turns sent again after a reload because the database did not have them
    started: bool = False
    instance: str = ""  # where the proxy routed its page (the app's X-Trainer-Instance header)


@dataclass
class Phase:
    reps: list[Rep]
    wall: float  # seconds from the moment every rep was in a session to the last turn
    cpu_ms_per_turn: float  # the app instances'
    client_ms_per_turn: float = float("nan")  # this load generator's
    rest_ms_per_turn: float = float("nan")  # nginx's and PostgreSQL's

    @property
    def steady_turns_per_s(self) -> float:
        """Turns/s in the steady middle of the phase: from the moment as many turns were answered as
        there are reps (the first burst, all sent at once, has drained) until the first rep played its
        last turn (after that fewer reps send, and in the tail one instance may finish alone)."""
        answers = [r.answered_at for r in self.reps]
        if not all(answers):
            return self.turns_per_s
        times = sorted(t for a in answers for t in a)
        since, until = times[len(answers) - 1], min(a[-1] for a in answers)
        done = sum(1 for t in times if since < t <= until)
        return done / (until - since) if until > since else self.turns_per_s

    @property
    def latencies(self) -> list[float]:
        return [x for r in self.reps for x in r.latencies]

    @property
    def errors(self) -> int:
        return sum(len(r.errors) for r in self.reps)

    @property
    def turns_per_s(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


async def sign_in(http: Client, rep: Rep) -> dict[str, int]:
    """Sign in through the proxy (the cookie jar keeps the sign-in and the route); returns the API's ids."""
    answer = await http.post("login", form={"username": rep.user, "password": PASSWORD})
    answer.raise_for_status()
    config = await http.get("config")
    config.raise_for_status()
    rep.instance = config.headers.get("x-trainer-instance", "")
    return {d.get("api_name"): d["id"] for d in config.json()["dependencies"]}


async def reload(http: Client, fns: dict[str, int]) -> tuple[Page, int]:
    """A new page on whatever instance the proxy picks: its only unfinished session, resumed; returns
    the page and how many rep turns the database holds."""
    page = Page(http, fns, uuid.uuid4().hex)
    await page.call("load", [])
    picker = (await page.call("unfinished", []))[1]  # [the box, the picker]
    choices = picker.get("choices") or []
    if len(choices) != 1:
        raise RuntimeError(f"expected one unfinished session after reload, found {len(choices)}")
    chat = (await page.call("resume", [choices[0][1]]))[1]  # [the session state, the chat, ...]
    return page, sum(1 for m in chat if m.get("role") == "user")


async def play(url: str, rep: Rep, turns: int, think: tuple[float, float], gate: Gate, seed: int) -> None:
    """One browser tab: sign in, start, then `turns` turns; after a failure, reload and go on."""
    async with Client(url, cookies=True) as http:
        try:
            await http.get("")  # the page itself: nginx hands out the route cookie
            fns = await sign_in(http, rep)
            page = Page(http, fns, uuid.uuid4().hex)
            await page.call("load", [])
            await page.call("start", ["s:vp_budget_review", "Training"])
            rep.started = True
        except Exception as exc:
            rep.errors.append(f"start: {exc}")
            await gate.abort()
            return
        try:
            await gate.wait()
        except asyncio.BrokenBarrierError:
            rep.errors.append("start: another rep could not start, so the phase was abandoned")
            return
        pause = random.Random(seed)
        for turn in range(turns):
            await asyncio.sleep(pause.uniform(*think))
            line = LINES[turn % len(LINES)]
            began = time.perf_counter()
            try:
                await page.call("send", [line, None, "Training"])
                rep.confirmed += 1
                rep.answered_at.append(time.perf_counter())
                rep.latencies.append(rep.answered_at[-1] - began)
                continue
            except Exception as exc:
                rep.errors.append(f"turn {turn + 1}: {str(exc)[:120]}")
            page = await recover(http, fns, rep, line)
            if page is None:
                return


async def recover(http: Client, fns: dict[str, int], rep: Rep, line: str) -> Page | None:
    """Reload until a live instance has the session; re-send the turn in flight only if it was not kept."""
    deadline = time.monotonic() + RECOVER_WITHIN
    while time.monotonic() < deadline:
        try:
            page, stored = await reload(http, fns)
            rep.moved = True
            if stored <= rep.confirmed:
                await page.call("send", [line, None, "Training"])
                rep.resent += 1
            rep.confirmed += 1
            return page
        except Exception:
            await asyncio.sleep(0.5)
    rep.errors.append("gave up: no instance took the session back")
    return None


def run_phase(
    url: str,
    users: list[str],
    turns: int,
    think: tuple[float, float],
    pids: list[int],
    kill: tuple[float, Callable[[list[Rep]], None]] | None = None,
    rest: Sequence[int] = (),
) -> Phase:
    """Every rep plays at once; `kill` = (seconds after all reps are in a session, what to call then
    with the reps, which say where each one's page is);
    `rest`: nginx's and PostgreSQL's main processes, whose CPU is reported beside the app's."""
    reps = [Rep(u) for u in users]
    marks: list[float] = []
    chatting = asyncio.Event()  # bound to the phase's event loop when first awaited

    def all_in() -> None:
        marks.extend([sum(cpu_seconds(p) for p in pids), time.perf_counter()])
        marks.extend([cpu_seconds(os.getpid()), tree_cpu_seconds(list(rest))])
        chatting.set()

    gate = Gate(len(reps), action=all_in)
    asyncio.run(play_all(url, reps, turns, think, gate, chatting, kill))
    wall = time.perf_counter() - marks[1] if marks else 0.0
    alive = [p for p in pids if os.path.exists(f"/proc/{p}")]
    cpu = sum(cpu_seconds(p) for p in alive) - marks[0] if marks and len(alive) == len(pids) else 0.0
    turns_done = sum(len(r.latencies) for r in reps)
    if not turns_done or not marks:
        return Phase(reps, wall, float("nan"))
    client = cpu_seconds(os.getpid()) - marks[2]
    others = tree_cpu_seconds(list(rest)) - marks[3]
    per = 1000 / turns_done
    return Phase(reps, wall, per * cpu if cpu > 0 else float("nan"), per * client, per * others)


async def play_all(
    url: str,
    reps: list[Rep],
    turns: int,
    think: tuple[float, float],
    gate: Gate,
    chatting: asyncio.Event,
    kill: tuple[float, Callable[[list[Rep]], None]] | None,
) -> None:
    """Every rep in this one event loop (so the load generator takes little CPU from what it measures),
    and the kill, if any, `kill[0]` seconds after `chatting` is set."""
    killer = asyncio.create_task(strike_later(chatting, *kill, reps)) if kill is not None else None
    await asyncio.gather(*(play(url, rep, turns, think, gate, n) for n, rep in enumerate(reps)))
    if killer is not None:
        killer.cancel()  # the reps finished before the kill came


async def strike_later(
    chatting: asyncio.Event, after: float, strike: Callable[[list[Rep]], None], reps: list[Rep]
) -> None:
    """The kill, in a thread of its own (it waits for the process to die) while the reps go on; never,
    when the reps never all started (play_all cancels it)."""
    await chatting.wait()
    await asyncio.sleep(after)
    await asyncio.to_thread(strike, reps)


def stored_turns(database_url: str, users: list[str]) -> dict[str, int | None]:
    """Rep turns the database holds per user's session (None: no session stored)."""
    from trainer.catalog import load_catalog
    from trainer.roleplay.session import Sessions
    from trainer.team.store import open_store

    catalog = load_catalog()
    store = open_store(database_url)
    sessions = Sessions(catalog, checkpointer=store.db.checkpointer())
    held: dict[str, int | None] = {}
    for user in users:
        rows = store.sessions_of([user])
        held[user] = sum(t.speaker == "trainee" for t in sessions.view(rows[-1].id).turns) if rows else None
    store.db.pools.close()
    return held


def add_users(database_url: str, users: list[str]) -> None:
    from trainer.team.passwords import hash_password
    from trainer.team.store import open_store

    store = open_store(database_url)
    hashed = hash_password(PASSWORD)
    for user in users:
        store.add_user(user, "rep", "load", hashed)
    store.db.pools.close()


def summary(phase: Phase) -> str:
    """One line of figures, and the first errors on lines of their own."""
    errors = [e for r in phase.reps for e in r.errors]
    first = sorted(errors, key=lambda e: "abandoned" in e)[:3]  # the cause before its consequences
    return _figures(phase) + "".join(f"\n    {e}" for e in first)


def shares(phase: Phase) -> str:
    """How the proxy spread the reps over the instances (the sticky hash decides, not the load)."""
    counts = Counter(r.instance for r in phase.reps if r.instance)
    if len(counts) < 2:
        return ""
    return "\n    reps per instance: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _figures(phase: Phase) -> str:
    lat = phase.latencies
    if not lat:
        return f"no turns answered, errors {phase.errors}"
    return (
        f"{phase.turns_per_s:.1f} turns/s, p50 {statistics.median(lat):.2f} s,"
        f" p95 {percentile(lat, 0.95):.2f} s, errors {phase.errors},"
        f" CPU per turn: app {_ms(phase.cpu_ms_per_turn)}, load generator {_ms(phase.client_ms_per_turn)},"
        f" nginx + PostgreSQL {_ms(phase.rest_ms_per_turn)}"
    )


def _ms(value: float) -> str:
    """A CPU figure, or n/a when a process it covers died during the phase (its time left with it)."""
    return f"{value:.0f} ms" if value == value and value >= 0 else "n/a"


def total_ms(phase: Phase) -> float:
    return phase.cpu_ms_per_turn + phase.client_ms_per_turn + phase.rest_ms_per_turn


def measured(
    postgres: Any,  # the LocalPostgres the stack runs on
    instances: int,
    users: list[str],
    turns: int,
    think: tuple[float, float],
    kill_after=None,
    pin_cores: bool = True,
) -> Phase:
    """A fresh stack of `instances` on the database, warmed by a few throwaway reps, then the phase;
    with `kill_after`, instance 1 is killed that many seconds after every rep is in a session."""
    from trainer.deploy.stack import start_stack

    warm = [f"warm-{users[0]}-{i}" for i in range(instances * 2)]
    add_users(postgres.url, users + warm)
    stack = start_stack(instances, postgres.url, pin_cores=pin_cores)
    try:
        pids = [i.process.pid for i in stack.instances]
        rest = [stack.nginx.process.pid, int((postgres.data / "postmaster.pid").read_text().split()[0])]
        run_phase(stack.url, warm, 1, (0.0, 0.0), pids)  # first turns pay one-off costs

        def kill_busiest(reps: list[Rep]) -> None:
            """Kill the instance holding the most pages, so the run always has reps to move."""
            names = Counter(r.instance for r in reps if r.instance)
            busiest = names.most_common(1)[0][0] if names else "instance-1"
            stack.instances[int(busiest.rsplit("-", 1)[1]) - 1].kill()

        strike = (kill_after, kill_busiest) if kill_after is not None else None
        return run_phase(stack.url, users, turns, think, pids, kill=strike, rest=rest)
    finally:
        stack.stop()


def run_scale_out(args: argparse.Namespace, base_url: str) -> int:
    """All phases in one run; 1 when a turn went unanswered outside the kill phase, or data was lost."""
    from trainer.deploy.postgres_local import start_local_postgres

    os.environ.update(
        {"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "not-needed", "TRAINER_VOICE_MODEL": "fake-1s"}
    )
    low, high = (float(x) for x in args.think.split(":"))
    counts = sorted({1, args.instances})
    postgres = start_local_postgres()
    failed = False
    print(
        f"scale-out on {os.cpu_count()} cores: nginx, PostgreSQL (throwaway),"
        f" instances {' then '.join(map(str, counts))}"
        f" ({'on any core' if args.no_pin else 'each on a core of its own'});"
        f" model server {args.delay:.2f} s per reply"
    )
    try:
        saturation: dict[int, Phase] = {}
        for n in counts:
            users = [f"sat{n}-{i}" for i in range(args.saturate)]
            saturation[n] = measured(
                postgres, n, users, args.sat_turns, (0.0, 0.0), pin_cores=not args.no_pin
            )
            print(f"saturation, {n} instance(s), {args.saturate} reps x {args.sat_turns} turns, no pauses: "
                  + summary(saturation[n]) + shares(saturation[n]))  # fmt: skip
            failed |= saturation[n].errors > 0
        if len(counts) > 1 and all(saturation[n].turns_per_s for n in counts):
            ratio = saturation[counts[-1]].turns_per_s / max(saturation[1].turns_per_s, 1e-9)
            one_s, many_s = saturation[1].steady_turns_per_s, saturation[counts[-1]].steady_turns_per_s
            print(
                f"turns/s at saturation, {counts[-1]} instances vs 1: {ratio:.2f}x over the whole phase;"
                f" {many_s / max(one_s, 1e-9):.2f}x while every rep was still sending"
                f" ({one_s:.1f} -> {many_s:.1f})"
            )
            cores = os.cpu_count() or 1
            many = 1000 * cores / total_ms(saturation[counts[-1]])  # every core busy
            one = min(1000 / saturation[1].cpu_ms_per_turn, 1000 * cores / total_ms(saturation[1]))
            print(
                f"  this machine's ceiling, from the CPU each process spent per turn: {counts[-1]} instances"
                f" {many:.1f} turns/s (all {cores} cores, load generator included), 1 instance {one:.1f}"
                f" (its one core): at most {many / one:.2f}x"
            )

        n = args.instances
        phases = [("human pace", None)] + (
            [("human pace, one instance killed", args.kill_after)] if n > 1 else []
        )
        for label, kill_after in phases:
            users = [f"{'k' if kill_after is not None else 'h'}{n}-{i}" for i in range(args.sessions)]
            phase = measured(
                postgres, n, users, args.turns, (low, high), kill_after, pin_cores=not args.no_pin
            )
            held = stored_turns(postgres.url, users)
            lost_sessions = sum(1 for r in phase.reps if r.started and held[r.user] is None)
            lost_turns = sum(max(0, r.confirmed - (held[r.user] or 0)) for r in phase.reps)
            extra = sum(max(0, (held[r.user] or 0) - r.confirmed) for r in phase.reps)
            pace = f"{args.sessions} reps x {args.turns} turns, pauses {low:g}-{high:g} s"
            print(f"{label}, {n} instance(s), {pace}: {summary(phase)}")
            if kill_after is not None:
                moved = [r for r in phase.reps if r.moved]
                print(
                    f"  killed {kill_after:g} s in: reps moved {len(moved)},"
                    f" all finished {all(r.confirmed == args.turns for r in phase.reps)},"
                    f" turns re-sent {sum(r.resent for r in moved)}, stored turns lost {lost_turns},"
                    f" sessions lost {lost_sessions}, turns stored twice {extra}"
                )
            else:
                failed |= phase.errors > 0
            failed |= lost_turns > 0 or lost_sessions > 0 or extra > 0
    finally:
        postgres.stop()
    return 1 if failed else 0
