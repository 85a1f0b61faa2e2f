"""`python -m city_server`: the city tier.

    python -m city_server serve   --dsn DSN [--http HOST:PORT]      migrate, then serve /ingest
    python -m city_server halls add CODE NAME --dsn DSN             register a hall, print its key once
    python -m city_server ranking --month YYYY-MM --dsn DSN         the month's figures per hall (JSON)
    python -m city_server users add NAME --role city_manager|city_viewer --dsn DSN [--password-stdin]
                                    an account for the city pages; without --password-stdin a random
                                    password is printed once

`--config FILE` (TOML, `[city] dsn = "…"`, `http = "HOST:PORT"`) gives the same settings; flags win.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import tomllib
from datetime import date
from pathlib import Path

import psycopg
import uvicorn

from city_server.accounts import ROLES, AccountError, add_user
from city_server.app import make_app
from city_server.figures import month_ranking
from city_server.halls import HallError, add_hall
from city_server.store import migrate


class CityConfigError(ValueError):
    """The city's config file or flags are not usable (says which file and key)."""


def _settings(args: argparse.Namespace) -> tuple[str, str]:
    dsn, http = args.dsn, getattr(args, "http", None)
    if args.config:
        path = Path(args.config)
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("city", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CityConfigError(f"{path}: {exc}") from None
        for key in ("dsn", "http"):
            if key in table and not isinstance(table[key], str):
                raise CityConfigError(f"{path}: city.{key}: must be a string")
        dsn = dsn or table.get("dsn")
        http = http or table.get("http")
    if not dsn:
        raise CityConfigError("no PostgreSQL DSN: give --dsn or [city] dsn in --config")
    return dsn, http or "127.0.0.1:8090"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m city_server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "halls", "ranking", "migrate", "users"):
        s = sub.add_parser(name)
        s.add_argument("--dsn")
        s.add_argument("--config")
        if name == "serve":
            s.add_argument("--http")
        if name == "halls":
            s.add_argument("action", choices=["add"])
            s.add_argument("code")
            s.add_argument("name")
        if name == "users":
            s.add_argument("action", choices=["add"])
            s.add_argument("name")
            s.add_argument("--role", required=True, choices=list(ROLES))
            s.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
        if name == "ranking":
            s.add_argument("--month", required=True, help="YYYY-MM")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        dsn, http = _settings(args)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            migrate(conn)
            if args.cmd == "halls":
                print(add_hall(conn, args.code, args.name))
                return 0
            if args.cmd == "users":
                password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else secrets.token_urlsafe(12)
                add_user(conn, args.name, args.role, password)
                print(f"account {args.name} ({args.role})" + ("" if args.password_stdin else f": password {password}"))
                return 0
            if args.cmd == "ranking":
                month = date.fromisoformat(args.month + "-01")
                print(json.dumps(month_ranking(conn, month), ensure_ascii=False, indent=1))
                return 0
            if args.cmd == "migrate":
                return 0
    except (CityConfigError, HallError, AccountError, ValueError) as exc:
        print(f"city_server: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"city_server: cannot reach PostgreSQL: {exc}", file=sys.stderr)
        return 2
    host, _, port = http.rpartition(":")
    if not port.isdigit():
        print(f"city_server: --http {http!r}: expected HOST:PORT", file=sys.stderr)
        return 2
    uvicorn.run(make_app(dsn), host=host, port=int(port), log_level="warning", access_log=False)
    return 0
