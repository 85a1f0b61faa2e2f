"""`python -m hall_server config export|import`: the store's hall configuration as a TOML folder.

    python -m hall_server config export DIR --data DIR          write the store's hall as a folder
    python -m hall_server config import DIR --data DIR          show what differs from the store
    python -m hall_server config import DIR --data DIR --apply  … and make the store hold the folder

After the first start the store is the source of truth (`hall_server.domain.hall_config_store`);
a folder is the way to install a hall, to keep its versions, and to bring an edited copy back.
`import --apply` is for a stopped server: a running one keeps the configuration it holds in memory
until its next start (the browser's 管理 pages change a running hall at once).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.errors import ConfigError
from hall_server.core.migrations import HALL
from hall_server.core.store import StoreError, open_store
from hall_server.domain.hall_config_store import (
    CONFIG_FOLDER, StoreConfigError, copy_assets, diff_docs, export_folder, folder_docs, is_empty, load_from_store,
    replace_items, store_docs,
)
from hallnet.messages import now_ms


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    cfg = sub.add_parser("config", help="the hall configuration the store holds, as a TOML folder")
    csub = cfg.add_subparsers(dest="config_command", metavar="config COMMAND", required=True)
    exp = csub.add_parser("export", help="write the store's hall configuration as a TOML folder")
    exp.add_argument("folder", metavar="DIR", help="the folder to write (created; its five files are replaced)")
    exp.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    imp = csub.add_parser("import", help="show how a TOML folder differs from the store; --apply makes the store hold it")
    imp.add_argument("folder", metavar="DIR", help="the hall configuration folder")
    imp.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    imp.add_argument("--apply", action="store_true", help="apply the differences (each is audited); stop the server first")


def main_config(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if not (data / "hall.db").is_file():
        print(f"hall_server: no store in {data} (hall.db): start the server once with --config DIR", file=sys.stderr)
        return 2
    try:
        db = open_store(data / "hall.db", HALL)
    except StoreError as exc:
        print(f"hall_server: {exc}", file=sys.stderr)
        return 2
    try:
        if is_empty(db):
            print(f"hall_server: the store in {data} holds no hall configuration yet", file=sys.stderr)
            return 2
        if args.config_command == "export":
            export_folder(db, data / CONFIG_FOLDER, Path(args.folder))
            print(f"wrote the store's hall configuration to {args.folder}; check it with: python -m config check "
                  f"{args.folder}")
            return 0
        return _import(db, data, Path(args.folder), args.apply)
    except (StoreConfigError, OSError) as exc:
        print(f"hall_server: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()


def _import(db: object, data: Path, folder: Path, apply: bool) -> int:
    try:
        docs = folder_docs(folder)
    except ConfigError as exc:
        print(f"hall_server: {folder} is not a valid hall folder, nothing imported:\n{exc}", file=sys.stderr)
        return 1
    differences = diff_docs(store_docs(db), docs)  # type: ignore[arg-type]
    if not differences:
        print("no differences: the store already holds this folder")
        return 0
    for d in differences:
        print(d.describe() if not (d.after is None and d.kind == "staff") else f"- staff {d.key} (disabled, never deleted)")
    if not apply:
        print(f"{len(differences)} differences; run again with --apply to apply them")
        return 0
    config_folder = data / CONFIG_FOLDER
    copy_assets(docs, folder.resolve(), config_folder)
    with db.atomic():  # type: ignore[attr-defined]
        applied = replace_items(db, docs, now_ms(), "import", "config.import")  # type: ignore[arg-type]
        load_from_store(db, config_folder)  # type: ignore[arg-type]   # never leave a store that cannot start
    print(f"applied {len(applied)} differences (audited); the server uses them from its next start")
    return 0
