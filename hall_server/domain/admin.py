"""Managers change the hall's configuration (`admin.change`) and unlock staff (`admin.unlock`).

An admin change is a command like any other: the web side sends it through the one writer, it is
applied in the group transaction, and the hub swaps its `HallConfig` only after the commit
(`Context.new_config`, `hall_server.core.writer`). The handler

1. writes the changed items (`hall_config_store.put_item`: the item's whole TOML table),
2. builds the new `HallConfig` from the whole store with the folder loader (`config.loader`): a
   change the loader refuses is refused as `config_refused` with every problem in
   `details.problems` ([{file, key, message}]) and nothing is stored,
3. appends one `admin_audit` row per item that changed (who, when, what, before, after),
4. republishes what the configuration shows: every `window/<n>` (its name, the staff card the
   evaluator shows), every `queue/<category>` (its name), `floor`, and `notice` = {"text": …} when
   hall.toml has `[screen] notice` (the hall screen's line; the hall screen publishes it at start).

| type | from | body | result |
|---|---|---|---|
| `admin.change` | web, manager | `{who, what, subject?, items: [{kind: file/window/category/service/staff/tag, key, doc}]}` | `{changed: [[kind, key], …]}` |
| `admin.unlock` | web, manager | `{who, staff_no}` | `{staff_no, was_locked}` |
"""

from __future__ import annotations

from typing import Any

from config.errors import ConfigError
from config.schema import HALL_FILES, HallConfig
from hall_server.domain.context import BadRequest, Context, DomainError, Handlers
from hall_server.domain.floor import publish_queue, publish_window, refresh_floor
from hall_server.domain.hall_config_store import LISTS, Item, audit, build, is_empty, item_key, put_item, store_docs
from hallnet.bodies import AdminChange, AdminUnlock
from hallnet.vocabulary import Msg, NodeKind

HANDLERS = Handlers()
NOTICE = "notice"          # state key: the hall screen's notice line, {"text": …}


class ConfigRefused(DomainError):
    """The change would make a configuration the loader refuses; `details.problems` says why."""

    code = "config_refused"


class NoStoreConfig(DomainError):
    """The store holds no configuration (a server started before the first import)."""

    code = "no_store_config"


@HANDLERS.on(Msg.ADMIN_CHANGE, kinds={NodeKind.WEB, NodeKind.MANAGER})
def change(ctx: Context, body: AdminChange) -> dict[str, Any]:
    if is_empty(ctx.db):
        raise NoStoreConfig("the store holds no hall configuration")
    written: list[tuple[Item, dict[str, Any] | None]] = []
    for given in body.items:
        item = Item(given.kind, given.key, dict(given.doc))
        if item.kind == "file" and item.key not in HALL_FILES:
            raise BadRequest(f"no hall file {item.key!r}", field="items")
        if item.kind == "file" and any(array in item.doc for array, _k, _f in LISTS[item.key]):
            raise BadRequest(f"{item.key}: its lists are items of their own, not part of the file", field="items")
        if item.kind != "file" and item_key(item.kind, item.doc) != item.key:
            raise BadRequest(f"{item.kind} {item.key!r}: its table names {item_key(item.kind, item.doc)!r}",
                             field="items")
        written.append((item, put_item(ctx.db, item, ctx.now_ms)))
    try:
        config = build(store_docs(ctx.db), ctx.config.folder)
    except ConfigError as exc:
        raise ConfigRefused(str(exc)[:2000], problems=[
            {"file": p.file, "key": p.key, "message": p.message} for p in exc.problems][:50]) from None
    changed = []
    for item, before in written:
        if before != item.doc:
            audit(ctx.db, ctx.now_ms, body.who, body.what, body.subject, item.kind, item.key, before, item.doc,
                  ctx.msg_id)
            changed.append([item.kind, item.key])
    if changed:
        republish(ctx, config)
        ctx.new_config = config          # last: the writer swaps only after the commit
    return {"changed": changed}


def republish(ctx: Context, config: HallConfig) -> None:
    """Publish every key the configuration shows, under the new configuration."""
    old = ctx.config
    ctx.config = config
    for w in config.windows:
        publish_window(ctx, w.number)
    for c in config.categories:
        publish_queue(ctx, c.code)
    refresh_floor(ctx)
    notice = notice_text(config)
    if notice is not None and notice != notice_text(old):
        ctx.publish(NOTICE, {"text": notice})


def notice_text(config: HallConfig | None) -> str | None:
    """hall.toml `[screen] notice`, when the configuration has it (the hall screen's schema)."""
    screen = getattr(getattr(config, "hall", None), "screen", None)
    text = getattr(screen, "notice", None)
    return text if isinstance(text, str) else None


@HANDLERS.on(Msg.ADMIN_UNLOCK, kinds={NodeKind.WEB, NodeKind.MANAGER})
def unlock(ctx: Context, body: AdminUnlock) -> dict[str, Any]:
    """End a staff member's lock-out (too many wrong PINs) and clear the count; audited."""
    lock = ctx.db.execute("SELECT failures, locked_until_ms FROM staff_locks WHERE staff_no = ?",
                          [body.staff_no]).fetchone()
    was_locked = lock is not None and lock[1] > ctx.now_ms
    before = None if lock is None else {"failures": lock[0], "locked_until_ms": lock[1]}
    ctx.db.execute("DELETE FROM staff_locks WHERE staff_no = ?", [body.staff_no])
    audit(ctx.db, ctx.now_ms, body.who, "staff.unlock", body.staff_no, "lock", body.staff_no, before, None, ctx.msg_id)
    return {"staff_no": body.staff_no, "was_locked": was_locked}
