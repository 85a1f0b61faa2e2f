"""`python -m demo.city` (`make city-demo`): the city tier on this machine until Ctrl-C.

Starts, in one temporary folder that is removed at the end: a throwaway PostgreSQL server
(city_server.throwaway_pg), the city server (`python -m city_server serve`), and three hall
servers (`python -m hall_server`, each with its own data folder and a copy of the demo hall's
configuration with its own name and a `[city]` section; its key from `python -m city_server
halls add` in DATA/city.key), each with the traffic simulator (`python -m demo.traffic`) on the
same demo clock. Every hall forwards its records to the city as they happen. Prints the city
pages' address and login, then a line every few seconds with what the city holds per hall.
Ctrl-C (or SIGTERM) stops every process it started and removes the folder.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from city_server.accounts import add_user
from city_server.halls import add_hall
from city_server.store import migrate
from city_server.throwaway_pg import PgUnavailable, ThrowawayPg
from config.errors import ConfigError
from config.loader import load_hall
from demo.runner import DEMO_HALL, ROOT, Child, _port_free, _stop_all, _wait_ready
from demo.traffic import node_ids
from hallnet.keys import new_node_key

HALLS = (("HALL-HC", "环翠区政务服务中心"), ("HALL-WD", "文登区政务服务中心"), ("HALL-RS", "乳山市政务服务中心"))
CITY_ACCOUNT = "city"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo.city", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8090", help="the city pages (default 127.0.0.1:8090)")
    p.add_argument("--hall-http", metavar="PORT", type=int, default=8081,
                   help="the first hall's web port; the others follow (default 8081)")
    p.add_argument("--hall-bus", metavar="PORT", type=int, default=7710,
                   help="the first hall's bus port; the others are 10 apart (default 7710)")
    p.add_argument("--speed", metavar="N", type=float, default=30.0, help="demo clock speed-up (default 30)")
    p.add_argument("--start", metavar="HH:MM", default="08:55", help="the halls' local time at start (default 08:55)")
    p.add_argument("--every", metavar="S", type=int, default=2, help="each hall forwards every S seconds (default 2)")
    p.add_argument("--status-every", metavar="S", type=float, default=5.0, help="print the city's counts every S seconds")
    p.add_argument("--for", dest="run_for_s", metavar="S", type=float, default=0.0,
                   help="stop by itself after S seconds (default: run until Ctrl-C)")
    return p


def hall_config(folder: Path, name: str, code: str, city_url: str, every_s: int) -> Path:
    """A copy of the demo hall's configuration under another name, forwarding to the city."""
    shutil.copytree(DEMO_HALL, folder)
    toml = folder / "hall.toml"
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', toml.read_text(encoding="utf-8"), count=1)
    text += f'\n[city]\nurl = "{city_url}"\nhall = "{code}"\nevery_s = {every_s}\n'
    toml.write_text(text, encoding="utf-8")
    return folder


def city_counts(dsn: str) -> dict[str, tuple[int, int, int]]:
    """Per hall code: (办件, ratings, cases) the city holds."""
    sql = """SELECT h.code, (SELECT count(*) FROM jobs j WHERE j.hall = h.code),
                    (SELECT count(*) FROM ratings r WHERE r.hall = h.code),
                    (SELECT count(*) FROM cases c WHERE c.hall = h.code) FROM halls h ORDER BY h.code"""
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(sql)}


def status_line(dsn: str) -> str:
    try:
        counts = city_counts(dsn)
    except psycopg.OperationalError:
        return "市级数据库暂不可用"
    names = dict(HALLS)
    return "市级已收到 · " + "；".join(f"{names.get(code, code)}: 办件 {j} 评价 {r} 差评 {c}"
                                   for code, (j, r, c) in counts.items())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    host, _, port = args.http.rpartition(":")
    ports = [(host, port), *[("127.0.0.1", str(args.hall_http + i)) for i in range(len(HALLS))],
             *[("127.0.0.1", str(args.hall_bus + 10 * i + k)) for i in range(len(HALLS)) for k in (0, 1)]]
    for h, p in ports:
        if not p.isdigit() or not _port_free(h, int(p)):
            print(f"city demo: {h}:{p} is in use or invalid; choose others with --http / --hall-http / --hall-bus",
                  file=sys.stderr)
            return 2
    try:
        hh, mm = (int(x) for x in args.start.split(":"))
    except ValueError:
        print(f"city demo: --start {args.start!r}: expected HH:MM", file=sys.stderr)
        return 2
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    folder = Path(tempfile.mkdtemp(prefix="city-demo-"))
    pg = ThrowawayPg(port=random.randint(20000, 60000))
    children: list[Child] = []
    log = open(folder / "demo.log", "ab")

    def spawn(name: str, cmd: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, *cmd], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        children.append(Child(name, proc))
        return proc

    try:
        try:
            pg.start()
        except PgUnavailable as exc:
            print(f"city demo: PostgreSQL did not start: {exc}", file=sys.stderr)
            return 1
        password = f"demo-{random.randint(10**7, 10**8 - 1)}"
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            migrate(conn)
            keys = {code: add_hall(conn, code, name) for code, name in HALLS}
            add_user(conn, CITY_ACCOUNT, "city_manager", password)
        city_url = f"http://{args.http}"
        city = spawn("市级服务器", ["-m", "city_server", "serve", "--dsn", pg.dsn, "--http", args.http])
        if not _wait_ready(city_url + "/health", city):
            print(f"city demo: the city server did not start; see {folder / 'demo.log'}", file=sys.stderr)
            return 1
        tz = ZoneInfo(load_hall(str(DEMO_HALL)).hall.timezone)
        clock_start = datetime.now(tz).replace(hour=hh, minute=mm, second=0, microsecond=0).isoformat()
        clock = ["--clock-start", clock_start, "--clock-speed", str(args.speed), "--clock-anchor", f"{time.time():.3f}"]
        hall_urls = []
        for i, (code, name) in enumerate(HALLS):
            config = hall_config(folder / code / "config", name, code, city_url, args.every)
            data = folder / code / "data"
            data.mkdir(parents=True)
            (data / "city.key").write_text(keys[code] + "\n", encoding="utf-8")
            (data / "city.key").chmod(0o600)
            for node in node_ids(load_hall(str(config))):
                new_node_key(data, node)
            url, bus = f"http://127.0.0.1:{args.hall_http + i}", f"127.0.0.1:{args.hall_bus + 10 * i}"
            server = spawn(f"{name}服务器", ["-m", "hall_server", "--config", str(config), "--data", str(data),
                                          "--http", url.removeprefix("http://"), "--bus", bus,
                                          "--log-level", "WARNING", *clock])
            if not _wait_ready(url + "/api/health", server):
                print(f"city demo: {name}'s server did not start; see {folder / 'demo.log'}", file=sys.stderr)
                return 1
            spawn(f"{name}客流模拟", ["-m", "demo.traffic", "--config", str(config), "--bus", bus,
                                     "--keys", str(data / "keys" / "issued"), "--data", str(data / "nodes"),
                                     "--seed", str(i + 1), "--http", url, *clock])
            hall_urls.append(f"  {name}: {url}")
        print("\n".join([
            "=" * 64,
            "市级监管平台演示（三个大厅向市级平台实时报送）",
            f"市级页面: {city_url}/ranking",
            f"登录: {CITY_ACCOUNT} / {password}（市级管理员）",
            "各大厅服务器:", *hall_urls,
            f"演示时钟: {clock_start}，{args.speed:g} 倍速；按 Ctrl-C 停止并清除全部数据",
            "=" * 64]), flush=True)
        started, next_status = time.monotonic(), 0.0
        while not stopping:
            now = time.monotonic()
            if args.run_for_s and now - started >= args.run_for_s:
                break
            for child in children:
                if child.proc.poll() is not None:
                    print(f"city demo: {child.name} exited with {child.proc.returncode}; stopping "
                          f"(see {folder / 'demo.log'})", file=sys.stderr)
                    tail = (folder / "demo.log").read_text(errors="replace")[-3000:]
                    print(tail, file=sys.stderr)
                    return 1
            if now >= next_status:
                print(status_line(pg.dsn), flush=True)
                next_status = now + args.status_every
            time.sleep(0.2)
        return 0
    except (ConfigError, OSError) as exc:
        print(f"city demo: {exc}", file=sys.stderr)
        return 1
    finally:
        _stop_all(children)
        log.close()
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
        print("演示已停止，临时数据已清除", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
