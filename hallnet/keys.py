"""CURVE keys: creating, storing, loading, and the server's registry of known node keys.

Layout of a hall server's data folder:
    keys/server.key          the server's public key (z85, zmq certificate format)
    keys/server.key_secret   the server's key pair
    keys/nodes/NODE.key      the public key of each registered node (only these may connect)
    keys/issued/NODE.key_secret + server.key
                             what a node needs: hand this folder (or the two files) to the node
A node is given `--keys DIR` holding `NODE.key_secret` and `server.key`.
"""

from __future__ import annotations

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
    for stale in (issued / f"{node}.key", issued / f"{node}.key_secret"):
        stale.unlink(missing_ok=True)
    zmq.auth.create_certificates(str(issued), node)
    os.chmod(issued / f"{node}.key_secret", 0o600)
    tmp = nodes / f".{node}.key.tmp"
    shutil.copyfile(issued / f"{node}.key", tmp)
    os.replace(tmp, nodes / f"{node}.key")  # registered atomically
    shutil.copyfile(keys / "server.key", issued / "server.key")
    return issued


def load_node_keys(keys_dir: Path, node: str) -> NodeKeys:
    return NodeKeys(node=_load_pair(keys_dir / f"{node}.key_secret"),
                    server_public=_load_public(keys_dir / "server.key"))


class KeyRegistry:
    """Registered node public keys → node names; rescans its folder when it meets an unknown key."""

    def __init__(self, nodes_dir: Path) -> None:
        self.nodes_dir = nodes_dir
        self._lock = threading.Lock()
        self._by_key: dict[bytes, str] = {}
        self.reload()

    def reload(self) -> None:
        found: dict[bytes, str] = {}
        if self.nodes_dir.is_dir():
            for path in sorted(self.nodes_dir.glob("*.key")):
                name = path.name[: -len(".key")]
                if path.name.startswith(".") or name.split("-", 1)[0] in RESERVED_KINDS:
                    continue
                try:
                    found[_load_public(path)] = name
                except KeyFileError:
                    continue
        with self._lock:
            self._by_key = found

    def node_for(self, public_z85: bytes) -> str | None:
        with self._lock:
            node = self._by_key.get(public_z85)
        if node is None:
            self.reload()
            with self._lock:
                node = self._by_key.get(public_z85)
        return node


def apply_client_keys(sock: zmq.Socket, keys: NodeKeys) -> None:
    sock.curve_secretkey = keys.node.secret
    sock.curve_publickey = keys.node.public
    sock.curve_serverkey = keys.server_public


def apply_server_keys(sock: zmq.Socket, pair: KeyPair, zap_domain: bytes = b"hall") -> None:
    sock.zap_domain = zap_domain
    sock.curve_server = True
    sock.curve_secretkey = pair.secret
    sock.curve_publickey = pair.public
