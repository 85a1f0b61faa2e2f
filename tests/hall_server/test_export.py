"""R11: the provincial record as JSON lines and CSV, store-and-forward, nothing lost while the sink is down."""

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from hall_server.domain.export import Exporter, FolderSink, HttpSink, SinkError, to_csv

from .conftest import Driver


def _rate(hall: Driver, n: int) -> None:
    hall.sign_in(1, "1001")
    for i in range(n):
        hall.serve(1, job_no=f"JOB{i:04d}" if i % 2 else None)
        hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "text": "慢", "phone": "13812345678"} if i == 0
                else {"level": 5}, "kiosk-1")


def _exporter(hall: Driver, sink) -> Exporter:
    return Exporter(hall.hub.reader, hall.hub.config, sink,
                    lambda s, n: hall.ok("export.delivered", {"sink": s, "upto": n}, "system-export", now=hall.now),
                    batch=2)


def test_folder_sink_down_then_up_loses_nothing(hall: Driver, tmp_path: Path) -> None:
    _rate(hall, 3)
    blocker = tmp_path / "out"
    blocker.write_text("a file where the folder should be")
    ex = _exporter(hall, FolderSink(blocker))
    with pytest.raises(SinkError):
        ex.pump()
    assert ex.cursor() == 0
    blocker.unlink()
    assert ex.pump() == 3
    _rate_more = hall.serve(1)
    hall.ok("rating.submit", {"level": 4}, "kiosk-1")
    assert ex.pump() == 1 and ex.pump() == 0
    lines = [json.loads(l) for f in sorted(blocker.glob("*.jsonl")) for l in f.read_text("utf-8").splitlines()]
    assert [r["rating_id"] for r in lines] == [1, 2, 3, 4]
    first = lines[0]
    assert first["region_code"] == "110105" and first["reasons"] == ["N01"] and first["round"] == 1
    assert first["channel"] == 4 and len(first["rated_at"]) == 15 and first["rated_at"][8] == "T"
    assert first["job_no"].startswith("110105") and lines[1]["job_no"] == "JOB0001"
    assert "13812345678" not in json.dumps(lines)
    rows = list(csv.DictReader(io.StringIO((blocker / "ratings-0000000001-0000000002.csv").read_text("utf-8"))))
    assert rows[0]["reasons"] == "N01" and rows[0]["text"] == "慢"


def test_http_sink(hall: Driver) -> None:
    got: list[bytes] = []
    status = {"code": 503}

    class H(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if status["code"] == 200:
                got.append(body)
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        _rate(hall, 3)
        ex = _exporter(hall, HttpSink(f"http://127.0.0.1:{srv.server_port}/ratings", timeout_s=5))
        with pytest.raises(SinkError):
            ex.pump()
        assert ex.cursor() == 0
        status["code"] = 200
        assert ex.pump() == 3
        ids = [json.loads(l)["rating_id"] for b in got for l in b.decode("utf-8").splitlines()]
        assert ids == [1, 2, 3]
    finally:
        srv.shutdown()


def test_rare_characters_survive_csv_and_jsonl() -> None:
    rec = {"rating_id": 1, "region_code": "1", "dept_code": "d", "service_code": "s", "job_no": "j", "channel": 3,
           "level": 5, "reasons": [], "text": "𠀀𪚥", "rated_at": "20261123T090000", "round": 1, "staff_no": "1002",
           "staff_name": "李𠀀", "promised_min": 15, "accepted_on": "20261123", "is_default": False}
    assert "李𠀀" in to_csv([rec]) and "𠀀𪚥".encode("gb18030").decode("gb18030") == "𠀀𪚥"
