"""Delivering one notification: 企业微信 and 钉钉 group-robot webhooks (HTTP POST of
`{"msgtype": "text", "text": {"content": …}}`; 钉钉 optionally signed: `timestamp` and `sign`
query parameters, sign = Base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded) and
e-mail (SMTP, smtplib, optional STARTTLS and login).

A delivery succeeds on a 2xx whose JSON, if any, has no non-zero `errcode` (the robots answer 200
with `{"errcode": 45009, …}` when rate-limited), or on the SMTP server's acceptance. Anything else
raises `DeliveryError`. Each request carries the message's own id (`X-Hall-Message-Id`, the
e-mail's `Message-ID`) so a receiver can drop a repeat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

from config.schema import NotifyPolicy


class DeliveryError(Exception):
    """The channel did not take the message (network, non-2xx, errcode, SMTP refusal)."""


def dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with `timestamp` and `sign` added (钉钉 加签)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    sign = base64.b64encode(hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()).decode("ascii")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={urllib.parse.quote_plus(sign)}"


def post_webhook(url: str, content: str, uid: str, timeout_s: float) -> None:
    body = json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "X-Hall-Message-Id": uid})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, answer = resp.status, resp.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")
    try:
        parsed = json.loads(answer) if answer.strip() else {}
    except ValueError:
        parsed = {}
    if isinstance(parsed, dict) and parsed.get("errcode") not in (None, 0):
        raise DeliveryError(f"errcode {parsed.get('errcode')}: {str(parsed.get('errmsg', ''))[:100]}")


def send_email(policy: NotifyPolicy, subject: str, text: str, uid: str) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, policy.smtp_from, ", ".join(policy.smtp_to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<{uid}@hall-notify>"
    msg.set_content(text)
    try:
        with smtplib.SMTP(policy.smtp_host, policy.smtp_port, timeout=policy.timeout_s) as smtp:
            if policy.smtp_starttls:
                smtp.starttls()
            if policy.smtp_user:
                smtp.login(policy.smtp_user, policy.smtp_password)
            refused = smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}"[:300]) from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(sorted(refused))}"[:300])


def deliver(policy: NotifyPolicy, channel: str, subject: str, text: str, uid: str, now_ms: int) -> None:
    """Send one message on its channel; raises DeliveryError."""
    if channel == "wecom" and policy.wecom_webhook:
        post_webhook(policy.wecom_webhook, text, uid, policy.timeout_s)
    elif channel == "dingtalk" and policy.dingtalk_webhook:
        url = policy.dingtalk_webhook
        if policy.dingtalk_secret:
            url = dingtalk_signed(url, policy.dingtalk_secret, now_ms)
        post_webhook(url, text, uid, policy.timeout_s)
    elif channel == "email" and policy.smtp_host and policy.smtp_to:
        send_email(policy, subject, text, uid)
    else:
        raise DeliveryError(f"channel {channel} is not configured")
