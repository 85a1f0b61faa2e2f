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
   evaluator shows), every `queue/<category>` (its name), `floor`, `tags` = {version, tags: [{code,
   text, levels, added_in, removed_in}]} when the tag list changed (for evaluators that take the
   tags from the state rather than their own folder), and `notice` = {"text": …} when hall.toml has
   `[screen] notice` (the hall screen's line; the hall screen publishes it at start).

| type | from | body | result |
|---|---|---|---|
| `admin.change` | web, manager | `{who, what, subject?, items: [{kind: file/window/category/service/staff/tag, key, doc}]}` | `{changed: [[kind, key], …]}` |
| `admin.unlock` | web, manager | `{who, staff_no}` | `{staff_no, was_locked}` |
| `admin.account` | web, manager | `{who, what: account.add/role/password/revoke, account, before?, after?}` — a web account changed in users.json (the 账号 page): audited only | `{account}` |
| `admin.pin_reset` | web, manager | `{who, staff_no, pin_hash}` (of a one-time PIN the manager was shown) | `{staff_no}` — the next `window.sign_in` with it is refused `pin_change_required` until it carries the clerk's `new_pin` (`replace_reset_pin`) |
"""

from __future__ import annotations

from typing import Any

from config.errors import ConfigError
from config.schema import HALL_FILES, HallConfig
from hall_server.domain.context import BadRequest, Context, DomainError, Handlers
from hall_server.domain.floor import publish_queue, publish_window
from hall_server.domain.hall_config_store import LISTS, Item, audit, build, is_empty, item_key, put_item, store_docs
from config.pins import hash_pin, verify_pin
from hallnet.bodies import AdminAccount, AdminChange, AdminPinReset, AdminUnlock
from hallnet.vocabulary import Msg, NodeKind

HANDLERS = Handlers()
NOTICE = "notice"          # state key: the hall screen's notice line, {"text": …}
TAGS = "tags"              # state key: the rating reason tags (after the first admin change)


class ConfigRefused(DomainError):
    """The change would make a configuration the loader refuses; `details.problems` says why."""

    code = "config_refused"


class NoStoreConfig(DomainError):
    """The store holds no configuration (a server started before the first import)."""

    code = "no_store_config"


class PinChangeRequired(DomainError):
    """The PIN was reset by a manager: this sign-in must carry the clerk's own `new_pin`."""

    code = "pin_change_required"


class BadNewPin(DomainError):
    """The clerk's new PIN is not 4 to 12 digits, or is the one-time PIN itself."""

    code = "bad_new_pin"


NEW_PIN_DIGITS = (4, 12)


@HANDLERS.on(Msg.ADMIN_CHANGE, kinds={NodeKind.WEB, NodeKind.MANAGER})
def change(ctx: Context, body: AdminChange) -> dict[str, Any]:
    return {"changed": apply_items(ctx, body.who, body.what, body.subject,
                                   [Item(i.kind, i.key, dict(i.doc)) for i in body.items])}


def apply_items(ctx: Context, who: str, what: str, subject: str, given_items: list[Item]) -> list[list[str]]:
    """Write the items, rebuild and check the configuration, audit what changed, republish, and
    hand the writer the new configuration. Raises ConfigRefused (nothing kept) or BadRequest."""
    if is_empty(ctx.db):
        raise NoStoreConfig("the store holds no hall configuration")
    written: list[tuple[Item, dict[str, Any] | None]] = []
    for item in given_items:
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
            audit(ctx.db, ctx.now_ms, who, what, subject, item.kind, item.key, before, item.doc, ctx.msg_id)
            changed.append([item.kind, item.key])
    if changed:
        republish(ctx, config)
        ctx.new_config = config          # last: the writer swaps only after the commit
    return changed


def _staff_item(ctx: Context, staff_no: str) -> Item:
    doc = next((s for s in store_docs(ctx.db)["staff.toml"].get("staff", []) if s.get("staff_no") == staff_no), None)
    if doc is None:
        raise BadRequest(f"no staff member {staff_no!r}", field="staff_no")
    return Item("staff", staff_no, dict(doc))


@HANDLERS.on(Msg.ADMIN_PIN_RESET, kinds={NodeKind.WEB, NodeKind.MANAGER})
def pin_reset(ctx: Context, body: AdminPinReset) -> dict[str, Any]:
    """The clerk's PIN becomes the one-time PIN; their lock-out ends; the next sign-in sets their own."""
    item = _staff_item(ctx, body.staff_no)
    apply_items(ctx, body.who, "staff.pin_reset", body.staff_no,
                [Item("staff", body.staff_no, {**item.doc, "pin_hash": body.pin_hash})])
    ctx.db.execute("INSERT INTO staff_pin_resets (staff_no, at_ms, by) VALUES (?, ?, ?) ON CONFLICT (staff_no) "
                   "DO UPDATE SET at_ms = excluded.at_ms, by = excluded.by", [body.staff_no, ctx.now_ms, body.who])
    ctx.db.execute("DELETE FROM staff_locks WHERE staff_no = ?", [body.staff_no])
    return {"staff_no": body.staff_no}


def replace_reset_pin(ctx: Context, staff_no: str, new_pin: str) -> None:
    """At a sign-in whose PIN was right: if a manager reset this PIN, the clerk's `new_pin` replaces
    it now (audited, the configuration swapped); without one the sign-in is refused
    `pin_change_required`. Nothing happens for a PIN that was not reset."""
    if ctx.db.execute("SELECT 1 FROM staff_pin_resets WHERE staff_no = ?", [staff_no]).fetchone() is None:
        return
    if not new_pin:
        raise PinChangeRequired(f"{staff_no} must set a new PIN", digits=list(NEW_PIN_DIGITS))
    low, high = NEW_PIN_DIGITS
    item = _staff_item(ctx, staff_no)
    if not (new_pin.isascii() and new_pin.isdigit() and low <= len(new_pin) <= high) or \
            verify_pin(new_pin, item.doc.get("pin_hash", "")):
        raise BadNewPin(f"a new PIN is {low} to {high} digits, not the one-time PIN", digits=[low, high])
    apply_items(ctx, staff_no, "staff.pin_set", staff_no,
                [Item("staff", staff_no, {**item.doc, "pin_hash": hash_pin(new_pin)})])
    ctx.db.execute("DELETE FROM staff_pin_resets WHERE staff_no = ?", [staff_no])
    ctx.config = ctx.new_config or ctx.config


def republish(ctx: Context, config: HallConfig) -> None:
    """Publish every key the configuration shows, under the new configuration."""
    old = ctx.config
    ctx.config = config
    for w in config.windows:
        publish_window(ctx, w.number)
    for c in config.categories:
        publish_queue(ctx, c.code)
    ctx.floor_dirty = True           # `floor` / `mgr/floor`: recomputed once, after the batch (the writer)
    tags = tags_value(config)
    if ctx.current(TAGS) != tags:
        ctx.publish(TAGS, tags)
    notice = notice_text(config)
    if notice != notice_text(old):
        ctx.publish(NOTICE, {"text": notice})


def tags_value(config: HallConfig) -> dict[str, Any]:
    """`tags`: the rating reason tags as the evaluators need them, every version's (a rating's
    `tag_version` picks its list: `added_in <= v < removed_in`)."""
    return {"version": config.tags.version, "tags": [
        {"code": x.code, "text": x.text, "levels": list(x.levels), "added_in": x.added_in, "removed_in": x.removed_in}
        for x in config.tags.tags]}


def notice_text(config: HallConfig) -> str:
    """hall.toml `[screen] notice` ("" = none)."""
    return config.hall.screen.notice


@HANDLERS.on(Msg.ADMIN_ACCOUNT, kinds={NodeKind.WEB, NodeKind.MANAGER})
def account_changed(ctx: Context, body: AdminAccount) -> dict[str, Any]:
    """A web account was changed (users.json is the accounts' store): one admin audit row."""
    audit(ctx.db, ctx.now_ms, body.who, body.what, body.account, "account", body.account, body.before, body.after,
          ctx.msg_id)
    return {"account": body.account}


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
