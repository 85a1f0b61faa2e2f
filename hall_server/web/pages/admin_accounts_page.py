"""管理 → 账号 (admin role only): the web accounts (manager, viewer, admin) in `users.json`.
Add one (its password is generated and shown once), change a role, give a new password (shown
once), end every session. Each change ends the account's sessions (`hall_server.web.users`) and
is recorded in the admin audit (`admin.account`). An account is never deleted here
(`python -m hall_server users remove` does that); an admin cannot change their own role.

| route | what |
|---|---|
| `GET /admin/accounts` | the list and the add form |
| `POST /admin/accounts/new` | add (name, role) |
| `POST /admin/accounts/{name}/{action}` | `role` (role=…), `password`, `revoke` |
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.web.pages.admin_common import Errors, clean_text, node_of, shell
from hall_server.web.pages.admin_upload import admin_guard
from hall_server.web.pages.auth import Session
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site
from hall_server.web.users import ROLES, UserError, account, add_user, list_users, revoke_sessions, set_password, set_role
from hallnet.vocabulary import Msg

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
ACTIONS = ("role", "password", "revoke")


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site, frozenset({"admin"}))

    def accounts_page(s: Session, errors: Errors | None = None, v: dict[str, Any] | None = None, notice: str = "",
                      shown: tuple[str, str] | None = None, status: int = 200) -> Response:
        rows = [{"name": u.name, "role": u.role} for u in list_users(site.data_dir)]
        return page("admin_accounts.html", status=status, title=t("admin.accounts.title"),
                    **shell(site, s, "accounts"), rows=rows, roles=ROLES, errors=errors or {},
                    v=v or {"name": "", "role": "viewer"}, notice=notice, shown=shown)

    async def audited(s: Session, what: str, name: str, before: Any, after: Any) -> None:
        await site.backend.command(Msg.ADMIN_ACCOUNT, {"who": s.user.name, "what": what, "account": name,
                                                       "before": before, "after": after}, node_of(s))

    @guard
    async def accounts(request: Request, s: Session) -> Response:
        done = request.query_params.get("done", "")
        return accounts_page(s, notice=t(f"admin.accounts.done.{done}") if done in ("role", "revoke") else "")

    @guard
    async def add(request: Request, s: Session) -> Response:
        form = request.state.form
        v = {"name": clean_text(form, "name"), "role": clean_text(form, "role")}
        errors: Errors = {}
        if not NAME.fullmatch(v["name"]):
            errors["name"] = t("admin.err.account_name")
        elif account(site.data_dir, v["name"]) is not None:
            errors["name"] = t("admin.err.account_taken")
        if v["role"] not in ROLES:
            errors["role"] = t("admin.err.required")
        if errors:
            return accounts_page(s, errors, v, status=422)
        password = add_user(site.data_dir, v["name"], v["role"])
        await audited(s, "account.add", v["name"], None, {"role": v["role"]})
        return accounts_page(s, shown=(v["name"], password), notice=t("admin.accounts.added", name=v["name"]))

    @guard
    async def act(request: Request, s: Session) -> Response:
        name, action = request.path_params["name"], request.path_params["action"]
        acc = account(site.data_dir, name)
        if acc is None or action not in ACTIONS:
            return message(t("admin.unknown"), t("admin.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        if name == s.user.name and action == "role":
            return accounts_page(s, {"rows": t("admin.accounts.not_self")}, status=409)
        try:
            if action == "role":
                role = clean_text(request.state.form, "role")
                if role not in ROLES:
                    return accounts_page(s, {"rows": t("admin.err.required")}, status=422)
                set_role(site.data_dir, name, role)
                await audited(s, "account.role", name, {"role": acc.role}, {"role": role})
            elif action == "password":
                password = set_password(site.data_dir, name)
                await audited(s, "account.password", name, None, None)
                return accounts_page(s, shown=(name, password), notice=t("admin.accounts.new_password", name=name))
            else:
                revoke_sessions(site.data_dir, name)
                await audited(s, "account.revoke", name, None, None)
        except UserError:
            return accounts_page(s, {"rows": t("admin.unknown_text")}, status=409)
        return RedirectResponse(f"/admin/accounts?done={action}", status_code=303)

    return [Route("/admin/accounts", accounts, methods=["GET"]),
            Route("/admin/accounts/new", add, methods=["POST"]),
            Route("/admin/accounts/{name}/{action}", act, methods=["POST"])]
