"""Sending one message: email through Django's mail settings, or a webhook in its documented shape.

Webhooks: `generic` is nbaudit's own JSON, signed with HMAC-SHA256 over "<timestamp>.<body>" in
`X-Nbaudit-Signature: sha256=<hex>` with `X-Nbaudit-Timestamp: <unix seconds>`; Slack, WeCom,
DingTalk and Feishu get their bots' own text-message bodies (DingTalk and Feishu signed as their
documentation says when a secret is set). A target that resolves to a private, loopback or
link-local address is refused unless NBAUDIT_WEBHOOK_ALLOW_PRIVATE=1.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

from alerts.models import WebhookFormat


class Transient(Exception):
    """A failure worth another try: no answer, a timeout, HTTP 429 or 5xx."""


class Permanent(Exception):
    """A failure another try will not mend: refused target, HTTP 4xx, a bad address."""


def _allow_private() -> bool:
    return bool(getattr(settings, "NBAUDIT_WEBHOOK_ALLOW_PRIVATE", False))


def webhook_target_check(url: str) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to an address not on the internet."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"webhook_url": "a webhook is an http:// or https:// URL"})
    if _allow_private():
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise ValidationError({"webhook_url": f"the host {parts.hostname} cannot be resolved"}) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified):
            raise ValidationError({"webhook_url": f"{parts.hostname} resolves to {address}, a private, loopback "
                                                  "or link-local address: refused"})


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Nbaudit-Signature value of a generic webhook."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _bot_sign(secret: str, timestamp: int, *, key_is_message: bool) -> str:
    text = f"{timestamp}\n{secret}".encode()
    mac = hmac.new(text, b"", hashlib.sha256) if key_is_message else hmac.new(secret.encode(), text, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def webhook_request(*, url: str, fmt: str, secret: str, subject: str, text: str, payload: dict,
                    now: int | None = None) -> tuple[str, bytes, dict]:
    """(url, body, headers) of a webhook message in the target's own shape."""
    timestamp = int(now if now is not None else time.time())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "nbaudit-alerts"}
    message = f"{subject}\n{text}".strip()
    if fmt == WebhookFormat.SLACK:
        data = {"text": message}
    elif fmt == WebhookFormat.WECOM:
        data = {"msgtype": "text", "text": {"content": message}}
    elif fmt == WebhookFormat.DINGTALK:
        data = {"msgtype": "text", "text": {"content": message}}
        if secret:
            millis = timestamp * 1000
            sign = _bot_sign(secret, millis, key_is_message=False)
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={millis}&sign={urllib.parse.quote_plus(sign)}"
    elif fmt == WebhookFormat.FEISHU:
        data = {"msg_type": "text", "content": {"text": message}}
        if secret:
            data.update(timestamp=str(timestamp), sign=_bot_sign(secret, timestamp, key_is_message=True))
    else:
        data = {**payload, "subject": subject, "text": text}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    if fmt == WebhookFormat.GENERIC or not fmt:
        headers["X-Nbaudit-Timestamp"] = str(timestamp)
        if secret:
            headers["X-Nbaudit-Signature"] = signature(secret, timestamp, body)
    return url, body, headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):  # a redirect could lead to a refused address
        return None


def webhook_send(*, url: str, body: bytes, headers: dict, timeout: float) -> str:
    """POST once; raises Transient or Permanent with the reason in words."""
    try:
        webhook_target_check(url)
    except ValidationError as exc:
        raise Permanent("; ".join(exc.messages)) from None
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            answer = response.read(2000)
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read(500) if exc.fp else b""
    except (TimeoutError, socket.timeout):
        raise Transient(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise Transient(f"no answer within {timeout:g} s") from None
        raise Transient(f"could not connect: {reason}") from None
    except (ConnectionError, OSError) as exc:
        raise Transient(f"the connection failed: {exc}") from None
    text = answer.decode("utf-8", "replace").strip()[:200]
    if 200 <= status < 300:
        return f"HTTP {status}"
    if status == 429 or status >= 500:
        raise Transient(f"HTTP {status}" + (f": {text}" if text else ""))
    raise Permanent(f"HTTP {status}" + (f": {text}" if text else ""))


def email_send(*, to: str, subject: str, body: str) -> str:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise Permanent(f"the mail server refused the address: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Transient(f"the mail server did not take it: {exc}") from None
    return "sent"
