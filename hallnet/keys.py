"""CURVE keys: creating, storing, loading, and the server's registry of known node keys.

Layout of a hall server's data folder:
    keys/server.key          the server's public key (z85, zmq certificate format)
    keys/server.key_secret   the server's key pair
    keys/nodes/NODE.key      the public key of each registered node (only these may connect)
    keys/issued/NODE.key_secret + server.key
                             what a node needs: hand this folder (or the two files) to the node
    keys/revoked/FINGERPRINT.key
                             public keys never accepted again: revoked (`keys revoke NODE`),
                             replaced (`keys new NODE` for a node that had a key) or deleted from
                             nodes/ while the server ran. Re-adding one means deleting its file here.
A node is given `--keys DIR` holding `NODE.key_secret` and `server.key`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

NODE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Node kinds (the part before the first "-") that only the server itself speaks as.
RESERVED_KINDS = frozenset({"server", "web", "qr", "system"})

log = logging.getLogger(__name__)


class KeyFileError(Exception):
    """A key file is missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class KeyPair:
    public: bytes   # z85
    secret: bytes   # z85


@dataclass(frozen=True)
class NodeKeys:
    node: KeyPair
    server_public: bytes


def _load_pair(path: Path) -> KeyPair:
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: cannot read key: {exc}") from None
    if not secret:
        raise KeyFileError(f"{path}: has no secret key")
    return KeyPair(public, secret)


def _load_public(path: Path) -> bytes:
    try:
        public, _ = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: cannot read key: {exc}") from None
    return public


def server_keys(data_dir: Path) -> KeyPair:
    """The server's key pair, created on first use."""
    keys = data_dir / "keys"
    secret = keys / "server.key_secret"
    if not secret.exists():
        keys.mkdir(parents=True, exist_ok=True)
        zmq.auth.create_certificates(str(keys), "server")
        os.chmod(secret, 0o600)
    return _load_pair(secret)


def new_node_key(data_dir: Path, node: str) -> Path:
    """Create and register a key pair for `node`; returns the folder to give the node."""
    if not NODE_NAME_RE.match(node):
        raise KeyFileError(f"bad node name {node!r}: letters, digits, '.', '_', '-'; at most 64")
    if node.split("-", 1)[0] in RESERVED_KINDS:
        raise KeyFileError(f"node name {node!r} is reserved: {', '.join(sorted(RESERVED_KINDS))} are the server's own")
    server_keys(data_dir)
    keys = data_dir / "keys"
    issued, nodes = keys / "issued", keys / "nodes"
    issued.mkdir(parents=True, exist_ok=True)
    nodes.mkdir(parents=True, exist_ok=True)
    if (nodes / f"{node}.key").exists():
        _remember_revoked(keys / "revoked", nodes / f"{node}.key")     # a replaced key is never taken again
    for stale in (issued / f"{node}.key", issued / f"{node}.key_secret"):
        stale.unlink(missing_ok=True)
    zmq.auth.create_certificates(str(issued), node)
    os.chmod(issued / f"{node}.key_secret", 0o600)
    tmp = nodes / f".{node}.key.tmp"
    shutil.copyfile(issued / f"{node}.key", tmp)
    os.replace(tmp, nodes / f"{node}.key")  # registered atomically
    shutil.copyfile(keys / "server.key", issued / "server.key")
    return issued


def fingerprint(public_z85: bytes) -> str:
    return hashlib.sha256(public_z85).hexdigest()[:24]


def _remember_revoked(revoked_dir: Path, key_file: Path) -> None:
    """Keep a copy of a node's public key file under revoked/ (atomically)."""
    public = _load_public(key_file)
    revoked_dir.mkdir(parents=True, exist_ok=True)
    target = revoked_dir / f"{fingerprint(public)}.key"
    tmp = revoked_dir / f".{target.name}.tmp"
    shutil.copyfile(key_file, tmp)
    os.replace(tmp, target)


def revoke_node_key(data_dir: Path, node: str) -> str:
    """Revoke `node`'s key: it is never accepted again, and a running server drops the node at once.

    Returns the revoked key's fingerprint. Raises KeyFileError if the node has no registered key."""
    keys = data_dir / "keys"
    registered = keys / "nodes" / f"{node}.key"
    if not NODE_NAME_RE.match(node) or not registered.exists():
        raise KeyFileError(f"{registered}: no registered key for node {node!r}")
    public = _load_public(registered)
    _remember_revoked(keys / "revoked", registered)
    registered.unlink()
    for issued in (keys / "issued" / f"{node}.key", keys / "issued" / f"{node}.key_secret"):
        issued.unlink(missing_ok=True)
    return fingerprint(public)


def user_id(node: str, public_z85: bytes) -> str:
    """The ZMQ User-Id the server gives a connection: the node's name and the key it proved."""
    return f"{node} {public_z85.decode('ascii')}"


def parse_user_id(text: str) -> tuple[str, bytes]:
    node, _, public = text.partition(" ")
    return node, public.encode("ascii")


def load_node_keys(keys_dir: Path, node: str) -> NodeKeys:
    return NodeKeys(node=_load_pair(keys_dir / f"{node}.key_secret"),
                    server_public=_load_public(keys_dir / "server.key"))


class KeyRegistry:
    """Registered node public keys → node names, less every revoked key.

    `node_for` rescans the folders when it meets an unknown key; `refresh` rescans them when they
    changed (the running bus calls it often, so a revocation takes effect at once). A key that
    disappears from nodes/ while the registry watches is remembered under revoked/."""

    def __init__(self, nodes_dir: Path) -> None:
        self.nodes_dir = nodes_dir
        self.revoked_dir = nodes_dir.parent / "revoked"
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()   # one rescan at a time (bus loop and ZAP thread both rescan)
        self._by_key: dict[bytes, str] = {}
        self._revoked: set[bytes] = set()
        self._stamp: frozenset[tuple[str, int, int, int]] = frozenset()
        self.generation = 0             # +1 each time a key stops being accepted
        self.reload()

    def _folder_stamp(self) -> frozenset[tuple[str, int, int, int]]:
        """Every file of both folders with its inode, size and mtime: any change shows (a directory's
        own mtime is too coarse to see two changes within one clock tick)."""
        entries: set[tuple[str, int, int, int]] = set()
        for folder in (self.nodes_dir, self.revoked_dir):
            try:
                with os.scandir(folder) as it:
                    for e in it:
                        st = e.stat(follow_symlinks=False)
                        entries.add((e.path, st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                continue
        return frozenset(entries)

    def reload(self) -> None:
        """Rescan both folders. Serialized, and a vanished key is written under revoked/ before the
        new map is published: a key file put back at once is never taken again."""
        with self._reload_lock:
            self._reload()

    def _reload(self) -> None:
        stamp = self._folder_stamp()
        revoked: set[bytes] = set()
        if self.revoked_dir.is_dir():
            for path in self.revoked_dir.glob("*.key"):
                if not path.name.startswith("."):
                    try:
                        revoked.add(_load_public(path))
                    except KeyFileError:
                        continue
        found: dict[bytes, str] = {}
        files: dict[bytes, Path] = {}
        if self.nodes_dir.is_dir():
            for path in sorted(self.nodes_dir.glob("*.key")):
                name = path.name[: -len(".key")]
                if path.name.startswith(".") or name.split("-", 1)[0] in RESERVED_KINDS:
                    continue
                try:
                    public = _load_public(path)
                except KeyFileError:
                    continue
                if public not in revoked:
                    found[public] = name
                    files[public] = path
        with self._lock:
            revoked |= self._revoked            # revocations seen earlier are never forgotten
            previous = dict(self._by_key)
        vanished = {k: n for k, n in previous.items() if k not in found}
        for public, name in vanished.items():
            if public not in revoked:
                self._remember(public, name)
                revoked.add(public)
        found = {k: n for k, n in found.items() if k not in revoked}
        with self._lock:
            self._by_key = found
            self._revoked = revoked
            self._stamp = stamp
            if vanished:
                self.generation += 1

    def _remember(self, public: bytes, name: str) -> None:
        """A key deleted from nodes/ by hand: never accept it again, even under another name."""
        try:
            self.revoked_dir.mkdir(parents=True, exist_ok=True)
            target = self.revoked_dir / f"{fingerprint(public)}.key"
            tmp = self.revoked_dir / f".{target.name}.tmp"
            tmp.write_text(f"# deleted key of {name}\nmetadata\ncurve\n    public-key = \"{public.decode()}\"\n",
                           encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            log.warning("could not record the deleted key of %s under %s: %s", name, self.revoked_dir, exc)

    def refresh(self) -> bool:
        """Rescan if the folders changed; True if a key stopped being accepted."""
        if self._folder_stamp() == self._stamp:
            return False
        before = self.generation
        self.reload()
        return self.generation != before

    def node_for(self, public_z85: bytes) -> str | None:
        with self._lock:
            node = self._by_key.get(public_z85)
            revoked = public_z85 in self._revoked
        if node is None and not revoked:
            self.reload()
            with self._lock:
                node = self._by_key.get(public_z85)
        return node

    def accepts(self, node: str, public_z85: bytes) -> bool:
        """Whether `public_z85` is (still) the registered key of `node`; no rescan."""
        with self._lock:
            return self._by_key.get(public_z85) == node

    def nodes(self) -> list[str]:
        with self._lock:
            return sorted(self._by_key.values())


def apply_client_keys(sock: zmq.Socket, keys: NodeKeys) -> None:
    sock.curve_secretkey = keys.node.secret
    sock.curve_publickey = keys.node.public
    sock.curve_serverkey = keys.server_public


def apply_server_keys(sock: zmq.Socket, pair: KeyPair, zap_domain: bytes = b"hall") -> None:
    sock.zap_domain = zap_domain
    sock.curve_server = True
    sock.curve_secretkey = pair.secret
    sock.curve_publickey = pair.public
