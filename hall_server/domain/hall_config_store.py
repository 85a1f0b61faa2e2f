"""The hall's configuration in the store: the source of truth after the first start.

A hall folder (five TOML files, `config/REFERENCE.md`) is held in `config_items` as items, one row
per window, category, 事项, staff member and tag, plus the rest of each file (`kind = "file"`:
hall.toml whole, tags.toml's `version`). Each item is its TOML table in JSON, so the store holds
exactly what a folder can say, and the server's `HallConfig` is built from it by the same loader
that checks a folder (`config.loader.build_hall`): a change the loader refuses is never stored.

- `seed_from_folder`: the first start imports the folder (only when `config_items` is empty);
- `load_from_store`: every start after builds the `HallConfig` from the store, photos under the
  data folder's `hall-config/` (the folder the `HallConfig` names);
- `export_folder`: writes the store back as a folder that `python -m config check` accepts;
- `folder_docs`, `diff_docs`, `replace_items`: `config import` shows the differences, applies them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import sqlite_utils

from config.errors import ConfigError, Problem
from config.loader import build_hall, load_hall
from config.schema import HALL_FILES, HallConfig
from config.toml_read import UnreadableToml, read_toml
from config.toml_write import dumps

Docs = dict[str, dict[str, Any]]       # file name → its TOML document

# The lists of each file: (array name, item kind, the key field)
LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "hall.toml": (),
    "windows.toml": (("windows", "window", "number"),),
    "services.toml": (("categories", "category", "code"), ("services", "service", "code")),
    "staff.toml": (("staff", "staff", "staff_no"),),
    "tags.toml": (("tags", "tag", "code"),),
}
KIND_FILE = {kind: (file, array) for file, lists in LISTS.items() for array, kind, _ in lists}
KEY_FIELD = {kind: field for lists in LISTS.values() for _, kind, field in lists}
CONFIG_FOLDER = "hall-config"          # under the data folder: the store's photos


class StoreConfigError(Exception):
    """The store's configuration cannot be used (empty, or refused by the loader); one line."""


@dataclass(frozen=True)
class Item:
    kind: str
    key: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Difference:
    """One item that differs: `before` None = new, `after` None = gone from the folder."""

    kind: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self) -> str:
        if self.before is None:
            return f"+ {self.kind} {self.key}: {_json(self.after)}"
        if self.after is None:
            return f"- {self.kind} {self.key}"
        changed = sorted(k for k in set(self.before) | set(self.after) if self.before.get(k) != self.after.get(k))
        parts = [f"{k}: {_json(self.before.get(k))} → {_json(self.after.get(k))}" for k in changed]
        return f"~ {self.kind} {self.key}: " + "; ".join(parts)


def _json(value: Any) -> str:
    """JSON text keeping the keys' order (a folder's keys come back in the order they were written)."""
    return json.dumps(value, ensure_ascii=False)


def plain(value: Any) -> Any:
    """A parsed TOML value as JSON data: dates and times become their ISO text (the loader reads both)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def item_key(kind: str, doc: Mapping[str, Any]) -> str:
    return str(doc.get(KEY_FIELD[kind], ""))


def split_docs(docs: Mapping[str, Mapping[str, Any]]) -> list[Item]:
    """A folder's documents as items, in the folder's order."""
    items: list[Item] = []
    for file in HALL_FILES:
        doc = dict(plain(docs.get(file) or {}))
        for array, kind, _field in LISTS[file]:
            for entry in doc.pop(array, []) or []:
                items.append(Item(kind, item_key(kind, entry), dict(entry)))
        items.append(Item("file", file, doc))
    return items


def join_items(items: list[Item]) -> Docs:
    """Items back into the five documents (lists in item order)."""
    docs: Docs = {file: {} for file in HALL_FILES}
    for item in items:
        if item.kind == "file":
            docs[item.key] = {**item.doc, **docs[item.key]}
    for item in items:
        if item.kind != "file":
            file, array = KIND_FILE[item.kind]
            docs[file].setdefault(array, []).append(item.doc)
    return docs


def store_items(db: sqlite_utils.Database) -> list[Item]:
    return [Item(kind, key, json.loads(doc)) for kind, key, doc in
            db.execute("SELECT kind, key, doc FROM config_items ORDER BY position, kind, key")]


def store_docs(db: sqlite_utils.Database) -> Docs:
    return join_items(store_items(db))


def is_empty(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT COUNT(*) FROM config_items").fetchone()[0] == 0


def folder_docs(folder: Path) -> Docs:
    """The folder's documents, checked whole by the loader first (raises ConfigError)."""
    load_hall(folder)
    docs: Docs = {}
    for file in HALL_FILES:
        try:
            docs[file] = plain(read_toml(folder / file))
        except (FileNotFoundError, UnreadableToml) as exc:       # changed since the check
            raise ConfigError([Problem(file, "", str(exc))]) from None
    return docs


def build(docs: Mapping[str, Mapping[str, Any]], folder: Path) -> HallConfig:
    """The `HallConfig` of these documents, photos under `folder`; raises ConfigError."""
    return build_hall(folder, docs)


def put_item(db: sqlite_utils.Database, item: Item, at_ms: int) -> dict[str, Any] | None:
    """Write one item (new ones go last); returns its doc before (None when new)."""
    old = db.execute("SELECT doc, position FROM config_items WHERE kind = ? AND key = ?",
                     [item.kind, item.key]).fetchone()
    if old is None:
        position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM config_items").fetchone()[0]
    else:
        position = old[1]
    db.execute("INSERT INTO config_items (kind, key, position, doc, changed_ms) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc, changed_ms = excluded.changed_ms",
               [item.kind, item.key, position, _json(item.doc), at_ms])
    return None if old is None else json.loads(old[0])


def audit(db: sqlite_utils.Database, at_ms: int, who: str, what: str, subject: str, kind: str, key: str,
          before: Any, after: Any, msg_id: str | None = None) -> None:
    db.execute("INSERT INTO admin_audit (at_ms, who, what, subject, kind, key, before, after, msg_id) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [at_ms, who, what, subject, kind, key, None if before is None else _json(before),
                None if after is None else _json(after), msg_id])


def replace_items(db: sqlite_utils.Database, docs: Mapping[str, Mapping[str, Any]], at_ms: int, who: str,
                  what: str) -> list[Difference]:
    """Make the store hold `docs` (already checked), auditing each difference; in the caller's
    transaction. Items the folder no longer has are removed from the configuration (their records
    stay), except staff: a staff member is never deleted, only disabled (`active = false`)."""
    differences = diff_docs(store_docs(db), docs)
    for position, item in enumerate(split_docs(docs), 1):
        db.execute("INSERT INTO config_items (kind, key, position, doc, changed_ms) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc, position = excluded.position, "
                   "changed_ms = CASE WHEN doc = excluded.doc THEN changed_ms ELSE excluded.changed_ms END",
                   [item.kind, item.key, position, _json(item.doc), at_ms])
    kept: list[Difference] = []
    for d in differences:
        if d.after is None and d.kind == "staff":       # never deleted: disabled, their records keep a name
            d = Difference(d.kind, d.key, d.before, {**(d.before or {}), "active": False})
            if d.before == d.after:
                continue
            put_item(db, Item(d.kind, d.key, d.after or {}), at_ms)
        elif d.after is None:
            db.execute("DELETE FROM config_items WHERE kind = ? AND key = ?", [d.kind, d.key])
        audit(db, at_ms, who, what, "", d.kind, d.key, d.before, d.after)
        kept.append(d)
    return kept


def diff_docs(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> list[Difference]:
    """The items that differ between two sets of documents (in the order of `after`, then the gone)."""
    old = {(i.kind, i.key): i.doc for i in split_docs(before)}
    new = {(i.kind, i.key): i.doc for i in split_docs(after)}
    out = [Difference(k[0], k[1], old.get(k), doc) for k, doc in new.items() if old.get(k) != doc]
    out += [Difference(k[0], k[1], doc, None) for k, doc in old.items() if k not in new]
    return out


def photo_paths(docs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [str(s["photo"]) for s in docs.get("staff.toml", {}).get("staff", []) if s.get("photo")]


def copy_photos(docs: Mapping[str, Mapping[str, Any]], source: Path, target: Path) -> None:
    """Copy every photo the staff list names from one folder to another (same relative paths)."""
    for relative in photo_paths(docs):
        src, dst = source / relative, target / relative
        if src.is_file() and src.resolve() != dst.resolve():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def voice_pack_dir(docs: Mapping[str, Mapping[str, Any]]) -> str | None:
    """hall.toml `[calling] voice_pack` when it is a folder beside the hall's files (relative)."""
    calling = docs.get("hall.toml", {}).get("calling", {})
    pack = calling.get("voice_pack", "") if isinstance(calling, Mapping) else ""
    return pack if isinstance(pack, str) and pack and not Path(pack).is_absolute() else None


def copy_assets(docs: Mapping[str, Mapping[str, Any]], source: Path, target: Path) -> None:
    """The files the hall's TOML names beside it: the staff photos and a hall's own voice pack."""
    copy_photos(docs, source, target)
    pack = voice_pack_dir(docs)
    if pack is not None:
        src, dst = source / pack, target / pack
        if src.is_dir() and src.resolve() != dst.resolve():
            shutil.copytree(src, dst, dirs_exist_ok=True)


def seed_from_folder(db: sqlite_utils.Database, folder: Path, config_folder: Path, at_ms: int) -> bool:
    """On the first start (no configuration in the store), import the TOML folder; True if it did.
    Raises ConfigError for a folder the loader refuses."""
    if not is_empty(db):
        return False
    docs = folder_docs(folder)
    config_folder.mkdir(parents=True, exist_ok=True)
    copy_assets(docs, folder.resolve(), config_folder)
    with db.atomic():
        replace_items(db, docs, at_ms, "first-start", "config.import")
    return True


def load_from_store(db: sqlite_utils.Database, config_folder: Path) -> HallConfig:
    """The hall's configuration as the store holds it; StoreConfigError when it cannot be built."""
    if is_empty(db):
        raise StoreConfigError("the store holds no hall configuration (start once with --config DIR)")
    try:
        return build(store_docs(db), config_folder.resolve())
    except ConfigError as exc:
        raise StoreConfigError(f"the store's hall configuration is not valid:\n{exc}") from None


def export_folder(db: sqlite_utils.Database, config_folder: Path, out: Path) -> Docs:
    """Write the store's configuration to `out` as a hall folder (its photos too)."""
    docs = store_docs(db)
    out.mkdir(parents=True, exist_ok=True)
    for file, doc in docs.items():
        tmp = out / f".{file}.tmp"
        tmp.write_text(dumps(doc), encoding="utf-8")
        tmp.replace(out / file)
    copy_assets(docs, config_folder, out)
    return docs
