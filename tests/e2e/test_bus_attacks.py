"""Attacks on a real hall server process over loopback TCP with CURVE: a node that never reads, a
flood from one node, a revoked key. Each is refused or survived, with nothing lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import zmq

from bench import flood as flood_bench
from hallnet import messages as m
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key
from tests.conftest import ROOT, ServerProcess, wait_until


def _raw(srv: ServerProcess, keys_dir: Path, node: str, ctx: zmq.Context, **opts: int) -> zmq.Socket:
    k = load_node_keys(keys_dir, node)
    s = ctx.socket(zmq.DEALER)
    s.curve_secretkey, s.curve_publickey, s.curve_serverkey = k.node.secret, k.node.public, k.server_public
    s.linger = 0
    for name, value in opts.items():
        setattr(s, name, value)
    s.connect(f"tcp://{srv.bus}")
    return s


def _client(srv: ServerProcess, keys_dir: Path, node: str, outbox: Path, key_node: str = "") -> HallClient:
    return HallClient(node, srv.bus, load_node_keys(keys_dir, key_node or node), outbox,
                      heartbeat_s=0.2, silence_s=0.8, resend_s=0.5).start()


def test_a_node_that_never_reads_cannot_grow_the_servers_memory(server: ServerProcess, tmp_path: Path) -> None:
    gateways = [f"gateway-{g}" for g in range(6)]
    keys = {g: server.new_key(g) for g in gateways}
    rogue_keys = server.new_key("kiosk-66")
    honest_keys = server.new_key("kiosk-1")
    server.start()
    assert server.proc is not None
    writers = [_client(server, keys[g], g, tmp_path / f"{g}.db") for g in gateways]
    try:                                         # ~380 KB of legitimate state: 360 devices × ~1 KB
        for w in writers:
            for k in range(0, 60, 10):
                w.send("node.report", {"devices": {f"dev-{i}": {"online": True, "b": "x" * 1000}
                                                   for i in range(k, k + 10)}})
        assert wait_until(lambda: all(w.pending_count() == 0 for w in writers), 30)
    finally:
        for w in writers:
            w.stop()
    before_mb = flood_bench.rss_mb(server.proc.pid)
    ctx = zmq.Context()
    peak_mb = before_mb
    honest = _client(server, honest_keys, "kiosk-1", tmp_path / "honest.db")
    try:
        rogue = _raw(server, rogue_keys, "kiosk-66", ctx, rcvhwm=1, sndhwm=100_000)
        ask = m.encode(m.Envelope(type=m.SNAPSHOT, node="kiosk-66", seq=0, body={}))
        hb = m.encode(m.Envelope(type=m.HEARTBEAT, node="kiosk-66", seq=0, body={}))
        t0 = time.monotonic()
        next_sample = t0
        while time.monotonic() - t0 < 5.0:          # asks, asks, and never reads an answer
            try:
                rogue.send(ask, zmq.NOBLOCK)
                rogue.send(hb, zmq.NOBLOCK)
            except zmq.Again:
                time.sleep(0.001)
            if time.monotonic() >= next_sample:
                peak_mb = max(peak_mb, flood_bench.rss_mb(server.proc.pid))
                next_sample += 0.25
        peak_mb = max(peak_mb, flood_bench.rss_mb(server.proc.pid))
        assert honest.call("audit.note", {"kind": "honest"}, timeout_s=10)["ok"]
        rogue.close()
    finally:
        honest.stop()
        ctx.term()
    print(f"\nserver RSS {before_mb:.0f} MB before, {peak_mb:.0f} MB at most while a node never read")
    assert peak_mb - before_mb < 100
    assert server.proc.poll() is None


def test_revoke_takes_effect_at_once_and_the_key_is_never_accepted_again(server: ServerProcess, tmp_path: Path) -> None:
    issued = server.new_key("kiosk-1")
    saved = tmp_path / "kiosk-1-keys"                 # what the node holds: its secret survives on the node
    shutil.copytree(issued, saved)
    server.new_key("kiosk-2")
    server.new_key("kiosk-3")
    keys2 = tmp_path / "kiosk-2-keys"
    shutil.copytree(issued, keys2)
    server.start()
    c1 = _client(server, saved, "kiosk-1", tmp_path / "c1.db")
    c2 = _client(server, keys2, "kiosk-2", tmp_path / "c2.db")
    try:
        assert c1.call("audit.note", {"kind": "before"}, timeout_s=10)["ok"]
        assert wait_until(lambda: c1.seq > 0 and c2.seq > 0)
        done = subprocess.run([sys.executable, "-m", "hall_server", "keys", "revoke", "kiosk-1", "--data",
                               str(server.data)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        t0 = time.monotonic()
        assert wait_until(lambda: not c1.connected, 5)
        print(f"\nthe revoked node lost the server after {time.monotonic() - t0:.2f} s")
        c1.send("audit.note", {"kind": "after-revoke"})
        seq_then = c1.seq
        assert c2.call("audit.note", {"kind": "others-go-on"}, timeout_s=10)["ok"]   # reconnected, resent
        assert wait_until(lambda: c2.seq > seq_then + 1)
        time.sleep(1.0)
        assert c1.seq == seq_then, "the revoked node's state subscription is cut"
        assert c1.pending_count() == 1 and not c1.connected
    finally:
        c1.stop()
    # the old public key, re-registered under another name by copying its file, stays refused
    revoked = sorted((server.data / "keys" / "revoked").glob("*.key"))
    assert len(revoked) == 1
    shutil.copyfile(revoked[0], server.data / "keys" / "nodes" / "kiosk-7.key")
    sneak = _client(server, saved, "kiosk-7", tmp_path / "c7.db", key_node="kiosk-1")
    try:
        sneak.send("audit.note", {"kind": "sneak"})
        time.sleep(1.5)
        assert not sneak.connected and sneak.pending_count() == 1
    finally:
        sneak.stop()
    # a replaced key (keys new for a node that has one) and a deleted key file: refused at once
    new_node_key(server.data, "kiosk-2")
    assert wait_until(lambda: not c2.connected, 5)
    deleted = server.data / "keys" / "nodes" / "kiosk-3.key"
    kept = deleted.read_bytes()
    c3 = _client(server, server.data / "keys" / "issued", "kiosk-3", tmp_path / "c3.db")
    try:
        assert c3.call("audit.note", {"kind": "three"}, timeout_s=10)["ok"]
        revoked_dir = server.data / "keys" / "revoked"
        before = set(revoked_dir.glob("*.key"))
        deleted.unlink()
        assert wait_until(lambda: not c3.connected, 5)
        # the server noticed the deletion (a silence of the client alone is not proof): it remembered the key
        assert wait_until(lambda: len(set(revoked_dir.glob("*.key")) - before) == 1, 5)
        deleted.write_bytes(kept)                       # put back by hand: still refused
        c3.send("audit.note", {"kind": "three-back"})
        time.sleep(1.5)
        assert not c3.connected and c3.pending_count() == 1
    finally:
        c2.stop()
        c3.stop()
    server.stop()
    db = sqlite3.connect(server.data / "hall.db")
    kinds = {r[0] for r in db.execute("SELECT kind FROM audit WHERE kind LIKE 'note.%'")}
    assert {"note.before", "note.others-go-on", "note.three"} <= kinds
    assert not kinds & {"note.after-revoke", "note.sneak", "note.three-back"}


def test_a_flood_from_one_node_is_refused_and_others_lose_nothing(server: ServerProcess, tmp_path: Path) -> None:
    server.new_key("kiosk-0")
    server.start()
    assert server.proc is not None
    fig = flood_bench.run(server.bus, server.data, tmp_path, duration_s=20.0, honest=5, interval_ms=200,
                          server_pid=server.proc.pid)
    print("\n" + fig.summary())
    assert server.proc.poll() is None
    assert fig.flood_sent > 20 * 1000, "the flooder really flooded"
    assert fig.flood_stored <= 600 + 20 * 21 + 10        # demo hall: burst 600, 20/s
    assert fig.honest_sent > 0 and fig.honest_stored == fig.honest_sent, "nothing lost"
    assert fig.p(0.99) < 2000, "generous: 2 shared cores; the figure is printed"
