"""Signed rating tokens for the QR slip: moved to `hall_server.qr_token` (the domain signs them too)."""

from hall_server.qr_token import (  # noqa: F401
    FOLLOWUP_DAYS, MAX_TOKEN_LEN, TokenError, TokenExpired, qr_path, sign, token_expiry_s, verify,
)
