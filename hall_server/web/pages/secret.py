"""The hall's web secret: moved to `hall_server.secret` (the hub loads it to sign QR links)."""

from hall_server.secret import SECRET_FILE, load_secret  # noqa: F401
