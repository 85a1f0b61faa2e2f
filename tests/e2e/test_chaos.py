"""The proof: a whole simulated hall day of the demo traffic at high speed-up, under fire.

Real processes on loopback, all on one demo clock (`--clock-start/--clock-speed/--clock-anchor`):
the hall server, the keypad-bus simulator on a pty with 1 % byte noise both ways, the keypad
gateway, window 9's evaluator as its own kiosk process (tests/e2e/kiosk_node.py: the kiosk's
evaluator logic on the node kiosk-9 with its durable outbox, taps as control lines), printer simulators on
ptys for windows 1–4 (the gateway prints the slips; citizens rate by the QR code printed on theirs), and the
traffic simulator (citizens, staff, kiosk taps, key presses, QR pages).
Meanwhile the hall server is SIGKILLed and restarted every few seconds (same anchor: time goes
on), keypad 3 reboots, the kiosk process is SIGKILLed and restarted, and so is the traffic
simulator itself (`--resume`: it picks the windows up from the hall state and confirms its open
kiosk taps).

Afterwards, from the raw SQLite records and the simulator's log of every rating it gave:
- every 办件 has exactly the rating the simulator gave (level, channel, tags), or none (未评价);
  an attempt the simulator could not see through (killed mid-press, a QR post without answer)
  may have either outcome, and is counted;
- no message applied twice (applied ids and (node, seq) unique; at most one first rating per 办件;
  one ticket per applied `queue.take`, one finished 办件 per applied `job.finish`);
- every 差评 has its case, and every 差评 case its 差评;
- the day's figures (`figures.report`, `figures.case_rates`) match a recount from the raw rows.
It prints the counts. Seeds fix the simulation; the assertions hold whatever the timing.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from config.loader import load_hall
from devices.control_lines import send_control_line
from hall_server.domain import figures
from demo.traffic import node_ids
from hallnet.keys import new_node_key
from tests.conftest import DEMO_HALL, ROOT, ServerProcess

DAY = "2026-11-23"                              # a Monday, a working day
CLOCK_START = f"{DAY}T08:40:00+08:00"
UNTIL = f"{DAY}T18:30:00+08:00"                 # the hall closes 17:30; late QR ratings until 18:30
SPEED = 300.0                                   # 08:40–18:30 in about 2 minutes
ARRIVALS = 24                                   # citizens per window per day (demo: 45)
SEED = 20261123
KIOSK_WINDOW = 9                                # its evaluator is a separate process
REBOOT_ADDRESS = 3
KILL_EVERY_S = 4.0
TRAFFIC_KILL_AT_S = 50.0
KIOSK_NODE = ROOT / "tests" / "e2e" / "kiosk_node.py"

pytestmark = pytest.mark.e2e


class Fleet:
    """Child processes of the test; all are SIGKILLed at teardown, whatever happened."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.procs.append(proc)
        return proc

    def first_line(self, name: str, prefix: str, proc: subprocess.Popen, timeout_s: float = 20) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in (self.root / f"{name}.log").read_text(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            assert proc.poll() is None, f"{name} exited: {(self.root / f'{name}.log').read_text()[-2000:]}"
            time.sleep(0.05)
        raise TimeoutError(f"{name} did not print {prefix!r}")

    def stop(self, proc: subprocess.Popen, timeout_s: float = 15) -> int:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def fleet(tmp_path: Path):
    f = Fleet(tmp_path)
    yield f
    f.kill_all()


def _chaos_config(tmp_path: Path) -> Path:
    """The demo hall, with the evaluator open the longest the keypad allows (180 s of hall time:
    at ×300 that is 0.6 real seconds for the gateway, the bus and the citizen)."""
    config = tmp_path / "config"
    shutil.copytree(DEMO_HALL, config)
    hall = config / "hall.toml"
    text = hall.read_text(encoding="utf-8")
    assert "open_s = 60" in text
    hall.write_text(text.replace("open_s = 60", "open_s = 180"), encoding="utf-8")
    return config


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


def _outbox_empty(path: Path) -> bool:
    if not path.exists():
        return True
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    finally:
        db.close()


def test_a_hall_day_under_fire_loses_nothing_and_applies_nothing_twice(tmp_path: Path, fleet: Fleet) -> None:
    started = time.monotonic()
    config_dir = _chaos_config(tmp_path)
    config = load_hall(config_dir)
    data = tmp_path / "hall"
    data.mkdir()
    for node in [*node_ids(config), "gateway-1"]:
        keys = new_node_key(data, node)
    clock = ["--clock-start", CLOCK_START, "--clock-speed", str(SPEED), "--clock-anchor", f"{time.time():.3f}"]
    server = ServerProcess(data=data, config=config_dir, args=clock)
    server.start()
    fleet.procs.append(server.proc)                                    # teardown kills whichever is current

    keypad_control = str(tmp_path / "keypad.sock")
    keypads = fleet.start("keypad-sim", [sys.executable, "-m", "devices", "simulate", "keypad", "--addresses", "1-8",
                                         "--noise", "0.01", "--seed", str(SEED), "--control", keypad_control,
                                         "--reply-ms", "1-10"])
    pty = fleet.first_line("keypad-sim", "PTY ", keypads)
    nodes = tmp_path / "nodes"
    # the windows' slip printers (windows 1–4): the gateway prints, the citizens read the QR from the paper
    printer_maps: list[str] = []
    slips: list[str] = []
    for w in config.windows:
        if w.printer is not None:
            name = f"printer-{w.number}"
            sim = fleet.start(name, [sys.executable, "-m", "devices", "simulate", "printer",
                                     "--out", str(tmp_path / f"{name}.jsonl")])
            printer_maps += ["--map", f"{w.printer.port}={fleet.first_line(name, 'PTY ', sim)}"]
            slips += ["--slips", f"{w.number}={tmp_path / f'{name}.jsonl'}"]
    gateway = fleet.start("gateway", [sys.executable, "-m", "devices", "--config", str(config_dir), "--bus", server.bus,
                                      "--keys", str(keys), "--data", str(nodes), "--map", f"sim://keypad={pty}",
                                      *printer_maps, "--qr-base", server.http, "--verbose", *clock])
    kiosk_control = str(tmp_path / "kiosk-9.sock")
    kiosk_cmd = [sys.executable, str(KIOSK_NODE), "--window", str(KIOSK_WINDOW), "--bus", server.bus,
                 "--keys", str(keys), "--data", str(tmp_path / "kiosk-9-data"), "--control", kiosk_control,
                 "--config", str(config_dir), *clock]
    kiosk = fleet.start("kiosk-9", kiosk_cmd)
    fleet.first_line("kiosk-9", "KIOSK ", kiosk)
    given_log = tmp_path / "ratings-given.jsonl"
    traffic_cmd = [
        sys.executable, "-m", "demo.traffic", "--config", str(config_dir), "--bus", server.bus,
        "--keys", str(keys), "--data", str(nodes), "--log", str(given_log), "--seed", str(SEED),
        "--arrivals", str(ARRIVALS), "--until", UNTIL, "--keypad-control", keypad_control, "--http", server.http,
        "--kiosk-control", f"{KIOSK_WINDOW}={kiosk_control}", *slips, *clock]
    traffic = fleet.start("traffic", traffic_cmd)

    # --- the fire ---------------------------------------------------------------------------------
    kills = kiosk_restarts = traffic_restarts = 0
    reboot_reply = ""
    t0 = time.monotonic()
    next_kill = t0 + KILL_EVERY_S
    while traffic.poll() is None:
        now = time.monotonic()
        assert now - t0 < 240, "the simulated day did not end in time"
        if not reboot_reply and now - t0 > 25:
            reboot_reply = send_control_line(keypad_control, f"reboot {REBOOT_ADDRESS}")
        if not kiosk_restarts and now - t0 > 35:
            kiosk.kill()
            kiosk.wait(10)
            time.sleep(1.0)
            kiosk = fleet.start("kiosk-9", kiosk_cmd)
            kiosk_restarts += 1
        if not traffic_restarts and now - t0 > TRAFFIC_KILL_AT_S:
            traffic.kill()
            traffic.wait(10)
            traffic = fleet.start("traffic", [*traffic_cmd, "--resume"])
            traffic_restarts += 1
        if now >= next_kill:
            server.kill()
            kills += 1
            time.sleep(0.3)
            server.start()
            fleet.procs.append(server.proc)
            next_kill = time.monotonic() + KILL_EVERY_S
        time.sleep(0.1)
    assert traffic.returncode == 0, (tmp_path / "traffic.log").read_text()[-3000:]
    assert reboot_reply.startswith("ok boot_id"), reboot_reply
    for proc, name in ((gateway, "gateway"), (keypads, "keypad-sim"), (kiosk, "kiosk-9")):
        assert proc.poll() is None, f"{name} died: {(tmp_path / f'{name}.log').read_text()[-2000:]}"

    # --- everything given reaches the server (the keypads' memories, the nodes' outboxes) ---------
    def keypads_drained() -> bool:
        status = json.loads(send_control_line(keypad_control, "status")[3:])
        return all(v["pending"] == 0 for v in status.values())

    _wait(keypads_drained, 60, "the keypads still hold presses")
    outboxes = [p for p in nodes.glob("*.db") if not p.name.endswith(".prints.db")]   # not the gateway's print journal
    _wait(lambda: all(_outbox_empty(p) for p in [*outboxes, tmp_path / "kiosk-9-data" / "kiosk-9.db"]),
          60, "outboxes did not drain")
    for proc in (gateway, kiosk, keypads):
        assert fleet.stop(proc) == 0
    assert server.stop() == 0

    # --- the proof, from the raw records ------------------------------------------------------------
    records = []
    for line in given_log.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            assert traffic_restarts, "a cut log line without a kill"   # the line the SIGKILL cut
    given = {g["job"]: g for g in records if "level" in g}
    assert len(given) == sum(1 for g in records if "level" in g), "the simulator rated a 办件 twice"
    refused_qr = [g for g in records if "refused" in g]
    last: dict[str, dict] = {}
    for r in records:
        if "intent" in r or "withdrawn" in r or "refused" in r:
            last[r["job"]] = r
    open_intents = {job: r for job, r in last.items() if "intent" in r and job not in given}
    db = sqlite_utils.Database(sqlite3.connect(data / "hall.db"))    # the domain's reads take a Database
    q = db.execute

    jobs = {pub: (jid, rating) for jid, pub, rating in q("SELECT id, pub, rating FROM jobs WHERE status = 'finished'")}
    first = {}
    for pub, level, channel, tags, n in q(
            "SELECT j.pub, r.level, r.channel, r.tags, COUNT(*) OVER (PARTITION BY r.job_id) FROM ratings r "
            "JOIN jobs j ON j.id = r.job_id WHERE r.round = 1"):
        assert n == 1, f"办件 {pub} has {n} first ratings"
        first[pub] = (level, channel, json.loads(tags))
    assert set(given) <= set(jobs), "a rating was given for a 办件 the hall does not have"
    expected = {pub: (g["level"], g["channel_code"], g["tags"]) for pub, g in given.items()}
    maybe = {pub: (r["opinion"]["level"], r["channel_code"], r["opinion"]["tags"]) for pub, r in open_intents.items()}
    wrong = {pub: (expected.get(pub), first.get(pub)) for pub in jobs
             if expected.get(pub) != first.get(pub) and not (pub in maybe and first.get(pub) in (None, maybe[pub]))}
    taken_maybe = sum(1 for pub in maybe if first.get(pub) is not None)
    assert not wrong, f"{len(wrong)} 办件 differ (given, recorded): {list(wrong.items())[:5]}"
    unrated = [pub for pub in jobs if pub not in first]
    assert all(jobs[pub][1] in ("open", "qr", "unrated") for pub in unrated)

    applied, distinct_ids, distinct_seqs = q(
        "SELECT COUNT(*), COUNT(DISTINCT id), COUNT(DISTINCT node || ':' || seq) FROM applied").fetchone()
    assert applied == distinct_ids == distinct_seqs
    takes = q("SELECT COUNT(*) FROM applied WHERE type = 'queue.take' AND ok = 1").fetchone()[0]
    assert q("SELECT COUNT(*) FROM tickets").fetchone()[0] == takes
    finishes = q("SELECT COUNT(*) FROM applied WHERE type = 'job.finish' AND ok = 1").fetchone()[0]
    assert len(jobs) == finishes
    rating_audits = q("SELECT COUNT(*), COUNT(DISTINCT subject) FROM audit WHERE kind = 'rating'").fetchone()
    assert rating_audits == (len(first), len(first))

    bad = {pub for pub, (level, _, _) in first.items() if level <= 2}
    cases = {pub: n for pub, n in q("SELECT j.pub, COUNT(*) FROM cases c JOIN jobs j ON j.id = c.job_id "
                                    "WHERE c.kind = 'bad_rating' GROUP BY j.pub")}
    assert set(cases) == bad and all(n == 1 for n in cases.values())
    assert all(first[pub][2] for pub in bad), "a 差评 without a reason tag"

    report = {r["key"]: r for r in figures.report(db, config, DAY, DAY, "window")}
    recount: dict[int, dict[str, int]] = {}
    for window, level in q("SELECT j.window, r.level FROM jobs j LEFT JOIN ratings r ON r.job_id = j.id "
                           "AND r.round = 1 AND r.is_default = 0 WHERE j.status = 'finished' AND j.day = ?", [DAY]):
        c = recount.setdefault(window, {"finished": 0, "rated": 0, **{f"l{i}": 0 for i in range(1, 6)}})
        c["finished"] += 1
        if level is not None:
            c["rated"] += 1
            c[f"l{level}"] += 1
    assert {w: {k: r[k] for k in recount[w]} for w, r in report.items()} == recount
    naive = {r["key"]: r for r in figures.naive_report_by_window(db, DAY, DAY)}
    for w, r in report.items():
        assert all(r[k] == naive[w][k] for k in ("finished", "rated", "l1", "l2", "l3", "l4", "l5", "level_sum")), w
    hall = figures.report(db, config, DAY, DAY, "hall")[0]
    case_rates = figures.case_rates(db, config, DAY, DAY, "hall")
    assert (case_rates[0]["cases"] if case_rates else 0) == len(bad) == hall["l1"] + hall["l2"]

    by_channel = {name: sum(1 for g in given.values() if g["channel"] == name) for name in ("kiosk", "keypad", "qr")}
    traffic_log = (tmp_path / "traffic.log").read_text(errors="replace")
    print(f"\nchaos: {time.monotonic() - started:.0f} s real, ×{SPEED:g}, {DAY} 08:40–18:30; server SIGKILLs {kills}, "
          f"keypad {REBOOT_ADDRESS} rebooted ({reboot_reply}), kiosk-{KIOSK_WINDOW} process restarts {kiosk_restarts}, "
          f"traffic process restarts {traffic_restarts}, keypad bus noise 1 %")
    print(f"chaos: tickets {takes}, 办件 finished {len(jobs)}, ratings given {len(given)} "
          f"(kiosk {by_channel['kiosk']}, keypad {by_channel['keypad']}, QR {by_channel['qr']}; "
          f"window {KIOSK_WINDOW}'s kiosk process {sum(1 for g in given.values() if g['window'] == KIOSK_WINDOW and g['channel'] == 'kiosk')}), "
          f"recorded {len(first)}, matching {len(jobs) - len(wrong)}/{len(jobs)}, 未评价 {len(unrated)}; "
          f"attempts cut off unseen {len(maybe)} (taken {taken_maybe}), kiosk taps confirmed after the traffic restart "
          f"{sum(1 for g in given.values() if g.get('resent'))}")
    print(f"chaos: 差评 {len(bad)}, 差评 cases {sum(cases.values())}, applied messages {applied} "
          f"(ids and node seqs unique: none applied twice), 好评率 {hall['good_rate']}, 参评率 {hall['participation_rate']}, "
          f"figures match the recount for {len(report)} windows")
    print("chaos: traffic (after its restart) " + traffic_log.strip().splitlines()[-1].split("stopped: ", 1)[-1])
    assert not refused_qr, refused_qr[:3]
    assert kills >= 10 and kiosk_restarts == 1 and traffic_restarts == 1
    assert "resumed:" in traffic_log
    assert by_channel["kiosk"] and by_channel["keypad"] and by_channel["qr"] and bad
