"""The hall's domain: rules R1–R12 of DOMAIN.md as plain functions, and the node commands.

Names (used everywhere, tables included):
  **ticket**  取号 ticket (A001), in the queue                      → `tickets`, `ticket_events`
  **job**     办件, one handled case at a window, with its 办件编号   → `jobs` (public id `jobs.pub`)
  **rating**  评价 of a job (round 1 = first rating, 2 = 追评)        → `ratings` (append-only)
  **case**    差评 follow-up (回访, 整改, 申诉复核), or a hall comment → `cases`, `case_events`
  **session** a staff member signed in at a window; pauses; attendance events (迟到/早退/离岗/空岗)

Modules, one job each:
  errors       named refusals (stable codes)            hours      local time, days, opening sessions
  workdays     China's working days (chinese_calendar), the hall's open days  common     node kinds, field checks, rows
  floor        window rows, state keys                  tickets    the queue (R9)
  floor_snapshot  the live floor as one typed snapshot, its coordinator (every floor reader's source)
  alerts       the floor's alerts (managers')
  jobs         办件 start/finish, overdue (R9)          ratings    一次一评 (R1–R6)
  slips        the slips' print jobs for the devices gateway, 补打 (the QR link reaches only the gateway)
  cases        差评 cases, appeals, hall comments (R7, R12)
  staff        sign-in/PIN lock, pauses, attendance (R10)
  roster       排班: windows open by day and half (上午/下午) and who is scheduled; copy last week
  leave        请销假: leave and business trips in half days, 销假
  attendance   who is due where (calendar, roster, leave) and which attendance events count
  roster_tables  the roster's and leave's tables and their audit (`ROSTER`, migrations 80–84)
  rollup       the figures' rollups kept by the writer  figures    R8/R10 figures from the rollups
  assessment   monthly assessment (R10)                 export     provincial record, store-and-forward (R11)
  rating_flags QR ratings' hashed sources and the one-device-many-办件 flags (issue 11)
  context      a handler's Context, the generic refusals, body types at the edge and `Handlers` (a type → handler table)
  commands     the message handlers (the node commands' table is in its docstring)
  handlers     `domain_handlers()`: every module's table merged (the hub is given it, with the foundation's)
  migrations   the domain's tables (`DOMAIN`, a sqlite-utils migration set, 10–99)

The state keys the screens subscribe to are listed in `floor`.
"""
