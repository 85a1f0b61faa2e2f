"""The city's daily figures per hall, day, window and staff member (`day_figures`, migration 3),
kept in the ingest's transaction so the month's ranking and the drill-down read a few thousand
rows instead of the month's 办件 and ratings (bench/city.py: the raw GROUP BY passes 1 s at a
fraction of a province's month).

Each count moves only for a row the table does not hold yet (read before the upsert), never for a
row the upsert updates, so a record listed again counts once. A rating counts on its 办件's day, window and staff member (the
month its 办件 was finished, as the hall's figures do); its 办件 is always forwarded before it (the
hall's outbox lists a 办件 when it is finished, before it can be rated), and the ingest upserts a
batch's 办件 before its ratings."""

from __future__ import annotations

TABLE = """CREATE TABLE day_figures (
    hall TEXT NOT NULL, day DATE NOT NULL, "window" INTEGER NOT NULL, staff_no TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0, overdue_jobs INTEGER NOT NULL DEFAULT 0,
    handle_ms_sum BIGINT NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0, good INTEGER NOT NULL DEFAULT 0, bad INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hall, day, "window", staff_no)
)"""

_ADD = """ON CONFLICT (hall, day, "window", staff_no) DO UPDATE SET
    finished = day_figures.finished + EXCLUDED.finished, overdue_jobs = day_figures.overdue_jobs + EXCLUDED.overdue_jobs,
    handle_ms_sum = day_figures.handle_ms_sum + EXCLUDED.handle_ms_sum, handled = day_figures.handled + EXCLUDED.handled,
    rated = day_figures.rated + EXCLUDED.rated, good = day_figures.good + EXCLUDED.good,
    bad = day_figures.bad + EXCLUDED.bad"""

_COLS = '(hall, day, "window", staff_no, finished, overdue_jobs, handle_ms_sum, handled, rated, good, bad)'


# Run after a batch's rows are staged (COPY into _in_<table>) and before they are upserted: the
# batch's last listing per key, only for keys the table does not hold yet.
JOBS = (f"INSERT INTO day_figures {_COLS} SELECT s.hall, s.day, s.\"window\", s.staff_no, count(*), "
        "sum(s.overdue::int), coalesce(sum(s.handle_ms), 0), count(s.handle_ms), 0, 0, 0 "
        "FROM (SELECT DISTINCT ON (hall, id, day) * FROM _in_jobs ORDER BY hall, id, day, _ord DESC) s "
        "WHERE NOT EXISTS (SELECT 1 FROM jobs t WHERE t.hall = s.hall AND t.id = s.id AND t.day = s.day) "
        f'GROUP BY s.hall, s.day, s."window", s.staff_no {_ADD}')

RATINGS = (f"INSERT INTO day_figures {_COLS} SELECT j.hall, j.day, j.\"window\", j.staff_no, 0, 0, 0, 0, count(*), "
           "sum((s.level >= 3)::int), sum((s.level <= 2)::int) "
           "FROM (SELECT DISTINCT ON (hall, id, day) * FROM _in_ratings ORDER BY hall, id, day, _ord DESC) s "
           "JOIN jobs j ON j.hall = s.hall AND j.id = s.job_id "
           "WHERE s.round = 1 AND NOT s.is_default "
           "AND NOT EXISTS (SELECT 1 FROM ratings t WHERE t.hall = s.hall AND t.id = s.id AND t.day = s.day) "
           f'GROUP BY j.hall, j.day, j."window", j.staff_no {_ADD}')


BACKFILL = (f"INSERT INTO day_figures {_COLS} "
            'SELECT hall, day, "window", staff_no, count(*), sum(overdue::int), coalesce(sum(handle_ms), 0), '
            'count(handle_ms), 0, 0, 0 FROM jobs GROUP BY hall, day, "window", staff_no',
            f"INSERT INTO day_figures {_COLS} "
            "SELECT j.hall, j.day, j.\"window\", j.staff_no, 0, 0, 0, 0, count(*), sum((r.level >= 3)::int), "
            "sum((r.level <= 2)::int) FROM ratings r JOIN jobs j ON j.hall = r.hall AND j.id = r.job_id "
            f'WHERE r.round = 1 AND NOT r.is_default GROUP BY j.hall, j.day, j."window", j.staff_no {_ADD}')
