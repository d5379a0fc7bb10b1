#!/usr/bin/python3
"""Mock OTP API server for the pam_baxverify tests: BaxVerify, Tryvox
Verify and Mudbase OTP, all three on one HTTPS port.

Stdlib only; runs with /usr/bin/python3 and any python3 >= 3.7.

  BaxVerify  /v1/auth/sms/*      per shared/api/baxverify.md
  Tryvox     /v1/verify/*        per shared/api/tryvox.md
  Mudbase    /api/auth/otp/*     per shared/api/mudbase.md

Each API answers with its own documented error body, codes and HTTP
statuses. Where its documentation is silent the choice made here is marked
"Our choice" and must not be relied on by the client beyond what the
documentation promises. Where a fact sheet says a client must accept either
of two behaviours, /_mock/config switches between them (the tryvox_* and
mudbase_* settings).

A control API under /_mock (no authentication, JSON in and out) lets tests
read the outbox of delivered codes, change limits, expire codes, inject
faults and inspect the requests the client made. See the docstring of each
control_* function.

    mock_baxverify.py --cert server.pem --key server.key --port-file PATH

prints "READY <port>" on stdout once it listens and exits 0 on SIGTERM.

The file is in sections: shared helpers and state; the BaxVerify, Tryvox
and Mudbase endpoint handlers; the per-API "families" (routing, headers,
error bodies, fault replies); the control API; HTTP plumbing; the CLI.
"""

import argparse
import base64
import hashlib
import hmac
import http
import http.server
import json
import math
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_mock"
DOCS_URL = "https://baxcloud.tech/docs/baxverify"
HELP_URL = "https://baxcloud.tech/dashboard/projects/{pid}?tab={tab}"

MAX_REQUEST_BODY = 1024 * 1024  # refuse larger request bodies (413)
HANDSHAKE_TIMEOUT = 10  # seconds a client gets to finish the TLS handshake
IDLE_TIMEOUT = 300  # seconds an idle keep-alive connection is kept
SLOW_FAULT_LIMIT = 120  # "hang" and "trickle" give up after this long
LOGS_MAX_LIMIT = 100
COMPACT = (",", ":")  # JSON separators: compact, as typical web APIs answer

PHONE_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Our choice: what counts as an email address (Tryvox `to` for channel
# email, Mudbase `email`): something@something.tld, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Documented error codes: HTTP status, message (from the docs table) and the
# dashboard tab the helpUrl points to. Only the FEATURE_DISABLED helpUrl is
# shown in the documentation (tab=features); the other tabs are our guess.
DOCUMENTED_ERRORS = {
    "BAXVERIFY_FEATURE_DISABLED": (
        403, "BaxVerify is not enabled for this project. "
        "Enable it under Project \u2192 Features.", "features"),
    "BAXVERIFY_PLAN_NOT_INCLUDED": (
        403, "Your plan does not include BaxVerify.", "billing"),
    "BAXVERIFY_API_KEY_SCOPE": (
        403, "API key lacks BaxVerify scope.", "api-keys"),
    "BAXVERIFY_SENDER_NOT_CONFIGURED": (
        400, "No SMS sender configured.", "baxverify"),
    "BAXVERIFY_INSUFFICIENT_CREDITS": (
        400, "Insufficient credits for SMS delivery.", "billing"),
    "BAXVERIFY_VERIFY_FEE_CREDITS": (
        400, "Insufficient credits for the verification fee.", "billing"),
    "BAXVERIFY_NO_SUBSCRIPTION": (
        400, "No active subscription for this project.", "billing"),
    "BAXVERIFY_RATE_LIMIT": (
        429, "Rate limit exceeded.", "baxverify"),
    "BAXVERIFY_OTP_EXPIRED": (
        400, "Code expired or not found.", "baxverify"),
    "BAXVERIFY_OTP_INVALID": (
        400, "Invalid verification code.", "baxverify"),
    "BAXVERIFY_OTP_MAX_ATTEMPTS": (
        429, "Too many failed attempts.", "baxverify"),
    "BAXVERIFY_INVALID_PHONE": (
        400, "Phone number is not valid.", "baxverify"),
    "BAXVERIFY_SMS_SEND_FAILED": (
        400, "Failed to send SMS.", "baxverify"),
    "BAXVERIFY_TOKEN_INVALID": (
        401, "Verification token is invalid or expired.", "baxverify"),
    "BAXVERIFY_TOKEN_CONSUMED": (
        401, "Verification token already used.", "baxverify"),
    "BAXVERIFY_PROJECT_INACTIVE": (
        403, "Project is not active.", "settings"),
    "BAXVERIFY_PROJECT_HEADER_REQUIRED": (
        400, "X-Project-Id header is required.", "api-keys"),
    "BAXVERIFY_API_KEY_PROJECT_MISMATCH": (
        403, "API key does not belong to this project.", "api-keys"),
}

# Our choice: codes for situations the documentation does not cover.
UNDOCUMENTED_ERRORS = {
    "UNAUTHORIZED": (401, "Missing or invalid API key.", "api-keys"),
    "BAD_REQUEST": (400, "Malformed request.", "baxverify"),
    "NOT_FOUND": (404, "Route not found.", "baxverify"),
}

# Tryvox error codes and statuses from the errors table of tryvox.md. The
# messages of VERIFICATION_FAILED, MAX_ATTEMPTS_EXCEEDED and NOT_FOUND are
# the check page's; the others are our wording. VERIFICATION_FAILED's status
# is the "tryvox_failed_status" setting (422 errors page / 400 check page).
TRYVOX_ERRORS = {
    "VALIDATION_FAILED": (400, "Request validation failed"),
    "UNAUTHORIZED": (401, "API key is missing, invalid or expired"),
    "FORBIDDEN": (403, "API key lacks permission for this tenant"),
    "NOT_FOUND": (404, "Verification not found or has expired"),
    "RATE_LIMITED": (429, "Too many requests"),
    "VERIFICATION_FAILED": (422, "Invalid verification code"),
    "MAX_ATTEMPTS_EXCEEDED": (
        429, "Maximum verification attempts exceeded. "
        "Please request a new code."),
    "DELIVERY_FAILED": (502, "Upstream delivery channel failed"),
    "INTERNAL_ERROR": (500, "Internal server error"),
}
TRYVOX_CHANNELS = ("sms", "voice", "whatsapp", "email")

# Mudbase's platform-wide error codes (mudbase.md, general auth page) and
# the default message of an "error" fault (the documented meanings).
MUDBASE_CODES = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "rate_limited": 429,
}
MUDBASE_MESSAGES = {
    "bad_request": "Bad request or validation error",
    "unauthorized": "Authentication required or invalid token",
    "forbidden": "Access denied or insufficient permissions",
    "not_found": "Not found",
    "rate_limited": "Too many requests",
}
MUDBASE_WRONG_OTP = "Invalid or expired OTP"  # the fact sheet's example
# Our choice: the refresh token lives 7 days (no lifetime is documented).
MUDBASE_REFRESH_TTL = 7 * 86400

BAXVERIFY_ENDPOINTS = ("send", "verify", "validate-token", "stats", "logs")
TRYVOX_ENDPOINTS = ("tryvox-start", "tryvox-check", "tryvox-status")
MUDBASE_ENDPOINTS = ("mudbase-send", "mudbase-verify")
FAULT_ENDPOINTS = BAXVERIFY_ENDPOINTS + TRYVOX_ENDPOINTS + \
    MUDBASE_ENDPOINTS + ("*",)
FAULT_KINDS = ("error", "http500", "malformed", "wrongshape", "empty",
               "oversized", "delay", "hang", "drop", "truncated", "trickle",
               "redirect", "ratelimit")

# Integer settings that /_mock/config may change: name -> (type, minimum).
# Each also has a command-line flag (--code-ttl, --tryvox-ttl, ...).
TUNABLES = {
    "code_ttl": (int, 0),
    "max_attempts": (int, 0),
    "token_ttl": (int, 0),
    "send_limit": (int, 0),
    "send_window": (int, 1),
    "code_length": (int, 1),
    # Tryvox
    "tryvox_ttl": (int, 0),
    "tryvox_start_limit": (int, 0),
    "tryvox_start_window": (int, 1),
    "tryvox_max_attempts": (int, 1),
    # Mudbase
    "mudbase_ttl": (int, 0),
    "mudbase_send_limit": (int, 0),
    "mudbase_send_window": (int, 1),
    "mudbase_max_attempts": (int, 1),
    "mudbase_token_ttl": (int, 1),
    "mudbase_code_length": (int, 1),
}

# Defaults of the settings without a flag in the original CLI (the flags
# that existed before keep their own defaults in parse_args).
NEW_TUNABLE_DEFAULTS = {
    "tryvox_ttl": 600,  # documented: 10 minutes
    "tryvox_start_limit": 5,  # documented: 5 per phone number per hour
    "tryvox_start_window": 3600,
    "tryvox_max_attempts": 5,  # documented: always 5
    # Our choice: nothing of these is published for Mudbase's /otp/*.
    "mudbase_ttl": 600,
    "mudbase_send_limit": 5,
    "mudbase_send_window": 3600,
    "mudbase_max_attempts": 5,
    "mudbase_token_ttl": 1800,  # the documented example expiresIn
    "mudbase_code_length": 6,
}

# Settings with a fixed set of values: name -> (type, choices, default).
# These are the behaviours a fact sheet says a client must accept both of.
SWITCHES = {
    # Tryvox VERIFICATION_FAILED: 422 (errors page) or 400 (check page).
    "tryvox_failed_status": (int, (422, 400), 422),
    # The reply to the wrong code that uses up the last attempt: still
    # VERIFICATION_FAILED ("failed") or already MAX_ATTEMPTS_EXCEEDED.
    "tryvox_fifth_reply": (str, ("failed", "max_attempts"), "failed"),
    # Checks of a verification that has become "failed": NOT_FOUND (the
    # check page: failed verifications are not found) or, Our choice as an
    # alternative, MAX_ATTEMPTS_EXCEEDED (until it expires).
    "tryvox_after_failed": (str, ("not_found", "max_attempts"), "not_found"),
    # Mudbase wrong/expired OTP: 400 bad_request or 401 unauthorized.
    "mudbase_wrong_status": (int, (400, 401), 400),
}


def iso_ms(t):
    """Unix time -> ISO-8601 UTC with milliseconds and Z."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
        ".%03dZ" % (ms % 1000)


def iso_s(t):
    """Unix time -> ISO-8601 UTC in whole seconds with Z (Tryvox style)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


def random_id(prefix, n=24):
    """prefix + n random letters and digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def retry_after(window, now, times):
    """Seconds until the oldest of times leaves the window (at least 1)."""
    return max(1, math.ceil(window - (now - times[0]))) if times else window


# --- JWT (HS256), enough for the proof token --------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(secret, claims):
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=COMPACT).encode())
        for part in (header, claims))
    sig = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256)
    return signing_input + "." + b64url(sig.digest())


def jwt_decode(secret, token):
    """Claims of a token we signed and that has not expired, else None."""
    try:
        head, body, sig = token.split(".")
        signing_input = (head + "." + body).encode("ascii")
        want = hmac.new(secret, signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(want, b64url_decode(sig)):
            return None
        if json.loads(b64url_decode(head)).get("alg") != "HS256":
            return None
        claims = json.loads(b64url_decode(body))
    except (ValueError, UnicodeError, AttributeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        return None
    if time.time() >= claims["exp"]:
        return None
    return claims


# --- Errors and state -------------------------------------------------------

class MockApiError(Exception):
    """Base of the per-API failures; each API's family renders its own."""


class ApiError(MockApiError):
    """A BaxVerify failure, answered with the documented error envelope."""

    def __init__(self, code, status=None, message=None, headers=None):
        super().__init__(code)
        known = DOCUMENTED_ERRORS.get(code) or UNDOCUMENTED_ERRORS.get(code)
        self.code = code
        self.status = status or (known[0] if known else 400)
        self.message = message or (known[1] if known else "Error.")
        self.tab = known[2] if known else "baxverify"
        self.headers = headers or []


class TryvoxError(MockApiError):
    """A Tryvox failure: {"error": {"code", "message"[, "details"]}}. A
    status of None means the documented one (for VERIFICATION_FAILED the
    configured one), resolved when the reply is made."""

    def __init__(self, code, message=None, details=None, status=None,
                 headers=None):
        super().__init__(code)
        self.code = code
        self.message = message or TRYVOX_ERRORS.get(code, (0, "Error"))[1]
        self.details = details
        self.status = status
        self.headers = headers or []


class MudbaseError(MockApiError):
    """A Mudbase failure: {"error", "code", "timestamp", "path",
    "requestId"} plus extra fields (e.g. retryAfter)."""

    def __init__(self, code, message, status=None, headers=None, extra=None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status or MUDBASE_CODES.get(code, 400)
        self.headers = headers or []
        self.extra = extra or {}


class ControlError(Exception):
    """A bad control-API request: 400 (or status) {"error": message}."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class State:
    """Everything the mock remembers, guarded by one lock."""

    def __init__(self, project_id, api_key, defaults, tryvox_key="",
                 tenant_id="", mudbase_project=""):
        self.lock = threading.RLock()
        self.project_id = project_id
        self.api_key = api_key
        self.tryvox_key = tryvox_key
        self.tenant_id = tenant_id
        self.mudbase_project = mudbase_project
        self.defaults = dict(defaults)  # the command-line settings
        self.accepted = 0  # never reset: gives connection ids
        self.reset()

    def reset(self):
        """Forget everything; restore the command-line settings."""
        with self.lock:
            self.settings = dict(self.defaults)
            self.force_code = None
            self.codes = {}  # phone -> {code, purpose, expires, attempts, log}
            self.consumed = set()  # jti of consumed tokens
            # A new secret invalidates every token issued before the reset.
            self.jwt_secret = secrets.token_bytes(32)
            self.outbox = []
            self.faults = []
            self.fault_serial = 0
            self.requests = []
            self.sends = {}  # phone -> [send times] for the rate limit
            self.logs = []  # delivery log items, oldest first
            # Tryvox: verification_id -> verification; to -> [start times]
            self.tryvox = {}
            self.tryvox_starts = {}
            # Mudbase: identifier -> {code, method, expires, wrong};
            # identifier -> [send times]
            self.mudbase = {}
            self.mudbase_sends = {}
            self.connections = 0  # connections that carried API requests
            self.accepted_since_reset = 0
            self.handshake_failures = 0
            # Slow faults ("hang", "trickle") stop when this changes.
            self.generation = getattr(self, "generation", 0) + 1

    def take_fault(self, endpoint):
        """The first fault matching endpoint, its count decremented."""
        with self.lock:
            for fault in self.faults:
                if fault["endpoint"] not in ("*", endpoint):
                    continue
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                return dict(fault)
        return None

    def new_code(self, length=None):
        """A fresh code of length digits (default: the BaxVerify setting).
        force_code wins for every API, whatever its length."""
        if self.force_code is not None:
            return self.force_code
        n = length or self.settings["code_length"]
        return str(secrets.randbelow(10 ** n)).zfill(n)

    def deliver(self, api, dest, channel, code, now, **extra):
        """Put a delivered code in the outbox. "phone" is kept (even for
        email) for the clients written before Tryvox and Mudbase."""
        msg = {"api": api, "phone": dest, "to": dest, "channel": channel,
               "code": code}
        msg.update(extra)
        msg["time"] = now
        self.outbox.append(msg)

    def add_log(self, phone, purpose):
        item = {"id": "log_%d" % (len(self.logs) + 1), "phone": phone,
                "status": "sent", "purpose": purpose, "time": time.time()}
        self.logs.append(item)
        return item


# --- BaxVerify API handlers -------------------------------------------------
# Each takes (state, body, query) -- GET ones (state, query) -- and returns
# (status, object, headers) or raises ApiError. They run under the state lock.

def require_string(body, name):
    value = body.get(name)
    if not isinstance(value, str):
        raise ApiError("BAD_REQUEST", message="'%s' must be a string." % name)
    return value


def api_send(state, body, query):
    phone = body.get("phone")
    if not isinstance(phone, str) or not PHONE_RE.match(phone):
        raise ApiError("BAXVERIFY_INVALID_PHONE")
    # Our choice: purpose is required and must be a non-empty string.
    purpose = require_string(body, "purpose")
    if not purpose:
        raise ApiError("BAD_REQUEST", message="'purpose' must not be empty.")

    now = time.time()
    window = state.settings["send_window"]
    recent = [t for t in state.sends.get(phone, []) if now - t < window]
    if len(recent) >= state.settings["send_limit"]:
        retry = max(1, math.ceil(window - (now - recent[0]))) \
            if recent else window
        raise ApiError("BAXVERIFY_RATE_LIMIT",
                       headers=[("Retry-After", str(retry))])
    recent.append(now)
    state.sends[phone] = recent

    # A new code replaces the previous one (undocumented; assumed).
    code = state.new_code()
    ttl = state.settings["code_ttl"]
    state.codes[phone] = {"code": code, "purpose": purpose,
                          "expires": now + ttl, "attempts": 0,
                          "log": state.add_log(phone, purpose)}
    state.deliver("baxverify", phone, "sms", code, now, purpose=purpose)
    # Our choice: the send response body is not documented.
    return 200, {"success": True, "phone": phone, "purpose": purpose,
                 "expiresInSeconds": ttl}, []


def api_verify(state, body, query):
    phone = require_string(body, "phone")
    code = require_string(body, "code")
    if not PHONE_RE.match(phone):
        raise ApiError("BAXVERIFY_INVALID_PHONE")

    entry = state.codes.get(phone)
    now = time.time()
    if entry is None or now >= entry["expires"]:
        if entry is not None:
            entry["log"]["status"] = "failed"
            del state.codes[phone]
        raise ApiError("BAXVERIFY_OTP_EXPIRED")
    max_attempts = state.settings["max_attempts"]
    if entry["attempts"] >= max_attempts:
        raise ApiError("BAXVERIFY_OTP_MAX_ATTEMPTS")
    if not hmac.compare_digest(code.encode(), entry["code"].encode()):
        # The wrong answer that uses up the last attempt is still
        # OTP_INVALID; the next verify gets OTP_MAX_ATTEMPTS.
        entry["attempts"] += 1
        if entry["attempts"] >= max_attempts:
            entry["log"]["status"] = "failed"
        raise ApiError("BAXVERIFY_OTP_INVALID")

    del state.codes[phone]
    entry["log"]["status"] = "verified"
    iat = int(now)
    claims = {"sub": phone, "project": state.project_id,
              "purpose": entry["purpose"],
              "rid": "req_" + secrets.token_hex(8),
              "iat": iat, "exp": iat + state.settings["token_ttl"],
              "jti": secrets.token_hex(16)}
    token = jwt_encode(state.jwt_secret, claims)
    return 200, {"verified": True, "phone": phone, "accessToken": token,
                 "tokenType": "Bearer",
                 "expiresIn": state.settings["token_ttl"]}, []


def api_validate_token(state, body, query):
    token = require_string(body, "token")
    # Our choice: consume defaults to true when omitted (the Node SDK calls
    # validation "single-use by default"); a non-boolean is a bad request.
    consume = body.get("consume", True)
    if not isinstance(consume, bool):
        raise ApiError("BAD_REQUEST", message="'consume' must be a boolean.")

    claims = jwt_decode(state.jwt_secret, token)
    if claims is None or claims.get("project") != state.project_id:
        raise ApiError("BAXVERIFY_TOKEN_INVALID")
    if claims["jti"] in state.consumed:
        raise ApiError("BAXVERIFY_TOKEN_CONSUMED")
    if consume:
        state.consumed.add(claims["jti"])
    # Field names per the Flutter SDK's ValidateVerificationTokenResult.
    return 200, {"valid": True, "phone": claims["sub"],
                 "projectId": claims["project"],
                 "purpose": claims["purpose"], "requestId": claims["rid"],
                 "issuedAt": iso_ms(claims["iat"]),
                 "expiresAt": iso_ms(claims["exp"])}, []


def query_int(query, name, default, minimum, maximum=None):
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[-1])
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError("BAD_REQUEST", message="Bad '%s'." % name)
    return value


def api_stats(state, query):
    # Our choice: the wire format of stats is not documented.
    days = query_int(query, "days", 7, 1, 3650)
    since = time.time() - days * 86400
    items = [i for i in state.logs if i["time"] >= since]
    return 200, {"success": True, "days": days, "sent": len(items),
                 "verified": sum(i["status"] == "verified" for i in items),
                 "failed": sum(i["status"] == "failed" for i in items)}, []


def api_logs(state, query):
    # Our choice: the wire format of logs is not documented. Newest first.
    page = query_int(query, "page", 1, 1)
    limit = query_int(query, "limit", 20, 1, LOGS_MAX_LIMIT)
    phone = (query.get("phone") or [None])[-1]
    status = (query.get("status") or [None])[-1]
    if status not in (None, "sent", "verified", "failed"):
        raise ApiError("BAD_REQUEST", message="Bad 'status'.")
    items = [i for i in reversed(state.logs)
             if (phone is None or i["phone"] == phone) and
             (status is None or i["status"] == status)]
    chunk = items[(page - 1) * limit:page * limit]
    return 200, {"success": True, "page": page, "limit": limit,
                 "total": len(items),
                 "items": [{"id": i["id"], "phone": i["phone"],
                            "status": i["status"], "purpose": i["purpose"],
                            "createdAt": iso_ms(i["time"])}
                           for i in chunk]}, []


# --- Tryvox Verify API handlers ---------------------------------------------
# Same calling convention as the BaxVerify handlers; they raise TryvoxError.
# A verification is {verification_id, to, channel, code, status, attempts,
# wrong, created, expires}; status is pending|approved|expired|failed.

def tryvox_refresh(v, now):
    """A pending verification whose time is up becomes expired."""
    if v["status"] == "pending" and now >= v["expires"]:
        v["status"] = "expired"


def tryvox_invalid(field, reason, message=None):
    return TryvoxError("VALIDATION_FAILED", message=message,
                       details=[{"field": field, "reason": reason}])


def api_tryvox_start(state, body, query):
    # Our choice: every field problem is reported at once, one "details"
    # item each; unknown fields are ignored.
    problems = []
    to = body.get("to")
    channel = body.get("channel")
    if not isinstance(channel, str) or channel not in TRYVOX_CHANNELS:
        problems.append({"field": "channel",
                         "reason": "must be one of sms, voice, whatsapp, "
                                   "email"})
    if not isinstance(to, str) or not to:
        problems.append({"field": "to", "reason": "is required"})
    elif channel not in TRYVOX_CHANNELS:
        pass  # the format of `to` depends on the channel
    elif channel == "email":
        if not EMAIL_RE.match(to):
            problems.append({"field": "to",
                             "reason": "must be a valid email address"})
    elif not PHONE_RE.match(to):
        # The fact sheet's example reason; also for a bad/missing channel.
        problems.append({"field": "to", "reason": "must be E.164 format"})
    length = body.get("code_length", 6)
    if type(length) is not int or not 4 <= length <= 8:
        problems.append({"field": "code_length",
                         "reason": "must be an integer from 4 to 8"})
    for name in ("locale", "app_name", "custom_message"):
        if name in body and not isinstance(body[name], str):
            problems.append({"field": name, "reason": "must be a string"})
    # Our choice: the placeholder syntax is undocumented; "{code}" and
    # "{{code}}" are accepted.
    custom = body.get("custom_message")
    if isinstance(custom, str) and "{code}" not in custom:
        problems.append({"field": "custom_message",
                         "reason": "must contain the {code} placeholder"})
    if problems:
        raise TryvoxError("VALIDATION_FAILED", details=problems)

    now = time.time()
    # Documented: 5 starts per phone number per hour. Our choice: the
    # answer is RATE_LIMITED 429 with Retry-After; the limit is per `to`
    # (emails too); refused starts do not count.
    window = state.settings["tryvox_start_window"]
    recent = [t for t in state.tryvox_starts.get(to, []) if now - t < window]
    if len(recent) >= state.settings["tryvox_start_limit"]:
        raise TryvoxError(
            "RATE_LIMITED",
            message="Too many verification requests for this destination",
            headers=[("Retry-After", str(retry_after(window, now,
                                                     recent)))])
    recent.append(now)
    state.tryvox_starts[to] = recent

    # Our choice: a forced code is used even if its length differs from
    # code_length. Earlier pending verifications of the same destination
    # stay valid (undocumented). The id is "ver_" + 24 random letters and
    # digits (only the prefix is documented).
    code = state.new_code(length)
    vid = random_id("ver_")
    while vid in state.tryvox:
        vid = random_id("ver_")
    v = {"verification_id": vid, "to": to, "channel": channel, "code": code,
         "status": "pending", "attempts": 0, "wrong": 0, "created": now,
         "expires": now + state.settings["tryvox_ttl"]}
    state.tryvox[vid] = v
    state.deliver("tryvox", to, channel, code, now, verification_id=vid)
    return 200, {"data": {"verification_id": vid, "to": to,
                          "channel": channel, "status": "pending",
                          "created_at": iso_s(v["created"]),
                          "expires_at": tryvox_expires_at(state, v)}}, []


def tryvox_expires_at(state, v):
    # Both shown in whole seconds: with a whole-second TTL expires_at is
    # exactly created_at + TTL, as documented (creation + 10 minutes). After
    # /_mock/expire it is the moment of that call.
    return iso_s(v["expires"])


def api_tryvox_check(state, body, query):
    vid = body.get("verification_id")
    code = body.get("code")
    if not isinstance(vid, str) or not vid:
        raise tryvox_invalid("verification_id", "is required",
                             "verification_id is required")
    # The check page's message. Our choice: a JSON number is not a code.
    if not isinstance(code, str) or not re.match(r"^[0-9]{4,8}\Z", code):
        raise tryvox_invalid("code", "must be 4-8 digits",
                             "Code must be 4-8 digits")

    now = time.time()
    v = state.tryvox.get(vid)
    if v is None:
        raise TryvoxError("NOT_FOUND")
    tryvox_refresh(v, now)
    if v["status"] == "failed":
        # Documented: a failed verification can never be checked again and
        # is NOT_FOUND. Our choice, switchable: MAX_ATTEMPTS_EXCEEDED until
        # it would have expired, NOT_FOUND after.
        if state.settings["tryvox_after_failed"] == "max_attempts" and \
                now < v["expires"]:
            raise TryvoxError("MAX_ATTEMPTS_EXCEEDED")
        raise TryvoxError("NOT_FOUND")
    if v["status"] != "pending":  # approved or expired
        raise TryvoxError("NOT_FOUND")

    # Our choice: "attempts" counts every check that reached a pending
    # verification (the status page: "checks made so far"); only wrong
    # codes count towards the limit.
    v["attempts"] += 1
    if hmac.compare_digest(code.encode(), v["code"].encode()):
        v["status"] = "approved"
        return 200, {"data": {"verification_id": vid, "status": "approved",
                              "to": v["to"], "channel": v["channel"]}}, []
    v["wrong"] += 1
    if v["wrong"] >= state.settings["tryvox_max_attempts"]:
        v["status"] = "failed"
        if state.settings["tryvox_fifth_reply"] == "max_attempts":
            raise TryvoxError("MAX_ATTEMPTS_EXCEEDED")
    raise TryvoxError("VERIFICATION_FAILED")


def api_tryvox_status(state, query, vid):
    v = state.tryvox.get(vid)
    if v is None:
        raise TryvoxError("NOT_FOUND")
    tryvox_refresh(v, time.time())
    return 200, {"data": {"verification_id": vid, "to": v["to"],
                          "channel": v["channel"], "status": v["status"],
                          "attempts": v["attempts"],
                          "max_attempts": state.settings[
                              "tryvox_max_attempts"],
                          "created_at": iso_s(v["created"]),
                          "expires_at": tryvox_expires_at(state, v)}}, []


# --- Mudbase OTP API handlers -----------------------------------------------
# Same calling convention; they raise MudbaseError. Public endpoints: the
# project comes from "projectId" in the body; the Authorization header is
# not looked at (it is recorded, like every header, in /_mock/requests).

def mudbase_project(state, body):
    """Our choice: projectId missing -> 400 bad_request; unknown -> 404
    not_found "Project not found" (as the password-reset OTP flow does)."""
    pid = body.get("projectId")
    if not isinstance(pid, str) or not pid:
        raise MudbaseError("bad_request", "projectId is required")
    if pid != state.mudbase_project:
        raise MudbaseError("not_found", "Project not found")
    return pid


def api_mudbase_send(state, body, query):
    mudbase_project(state, body)
    method = body.get("method")
    if method not in ("sms", "email"):
        raise MudbaseError("bad_request", "method must be sms or email")
    # Our choice: only the field matching method is looked at; a phone
    # must be E.164 (what the fact sheet tells clients to send).
    if method == "sms":
        dest = body.get("phone")
        if not isinstance(dest, str) or not PHONE_RE.match(dest):
            raise MudbaseError("bad_request",
                               "A valid phone number is required")
    else:
        dest = body.get("email")
        if not isinstance(dest, str) or not EMAIL_RE.match(dest):
            raise MudbaseError("bad_request",
                               "A valid email address is required")

    now = time.time()
    # Our choice: the (unpublished) rate limit is per destination, answered
    # the platform way: 429 rate_limited, retryAfter and Retry-After.
    window = state.settings["mudbase_send_window"]
    recent = [t for t in state.mudbase_sends.get(dest, [])
              if now - t < window]
    if len(recent) >= state.settings["mudbase_send_limit"]:
        wait = retry_after(window, now, recent)
        raise MudbaseError("rate_limited",
                           "Too many OTP requests. Please try again later.",
                           headers=[("Retry-After", str(wait))],
                           extra={"retryAfter": wait})
    recent.append(now)
    state.mudbase_sends[dest] = recent

    # Our choice: a new send replaces the destination's previous code.
    code = state.new_code(state.settings["mudbase_code_length"])
    state.mudbase[dest] = {"code": code, "method": method, "wrong": 0,
                           "expires": now + state.settings["mudbase_ttl"]}
    state.deliver("mudbase", dest, method, code, now)
    return 200, {"message": "OTP code sent successfully"}, []


def mudbase_wrong_otp(state):
    status = state.settings["mudbase_wrong_status"]
    return MudbaseError("bad_request" if status == 400 else "unauthorized",
                        MUDBASE_WRONG_OTP, status=status)


def api_mudbase_verify(state, body, query):
    pid = mudbase_project(state, body)
    ident = body.get("identifier")
    otp = body.get("otp")
    if not isinstance(ident, str) or not ident:
        raise MudbaseError("bad_request", "identifier is required")
    if not isinstance(otp, str) or not otp:
        raise MudbaseError("bad_request", "otp is required")

    # Our choice: identifier must match the sent phone/email byte for byte.
    now = time.time()
    entry = state.mudbase.get(ident)
    if entry is None or now >= entry["expires"]:
        state.mudbase.pop(ident, None)
        raise mudbase_wrong_otp(state)
    if entry["wrong"] >= state.settings["mudbase_max_attempts"]:
        # Our choice: after mudbase_max_attempts wrong codes every verify
        # of that code is 429 rate_limited (retryAfter: until the code
        # would expire) until a new send replaces it.
        wait = max(1, math.ceil(entry["expires"] - now))
        raise MudbaseError("rate_limited",
                           "Too many failed attempts. Request a new code.",
                           headers=[("Retry-After", str(wait))],
                           extra={"retryAfter": wait})
    if not hmac.compare_digest(otp.encode(), entry["code"].encode()):
        entry["wrong"] += 1
        raise mudbase_wrong_otp(state)

    del state.mudbase[ident]  # Our choice: single use
    # Our choice: a stable 24-hex user id per project and identifier; the
    # email is set for email users, null for SMS users.
    uid = hashlib.sha256((pid + "\0" + ident).encode()).hexdigest()[:24]
    iat = int(now)
    ttl = state.settings["mudbase_token_ttl"]
    base = {"sub": uid, "projectId": pid, "identifier": ident, "iat": iat}
    token = jwt_encode(state.jwt_secret,
                       dict(base, type="access", exp=iat + ttl,
                            jti=secrets.token_hex(16)))
    refresh = jwt_encode(state.jwt_secret,
                         dict(base, type="refresh",
                              exp=iat + MUDBASE_REFRESH_TTL,
                              jti=secrets.token_hex(16)))
    return 200, {"message": "OTP verified successfully", "token": token,
                 "refreshToken": refresh, "expiresIn": ttl,
                 "user": {"_id": uid,
                          "email": ident if entry["method"] == "email"
                          else None,
                          "firstName": "", "lastName": ""}}, []


# --- API families -----------------------------------------------------------
# One per API: which paths it owns, its routes, its header checks, and how
# it renders errors and faults.

def parse_json_object(raw):
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeError):
        body = None
    return body if isinstance(body, dict) else None


def is_json_post(headers, method):
    """False for a POST whose Content-Type is not application/json."""
    if method != "POST":
        return True
    ctype = (headers.get("Content-Type") or "").split(";")[0]
    return ctype.strip().lower() == "application/json"


def code_status(state, code):
    """The status any API documents for an error code, or None."""
    if code in DOCUMENTED_ERRORS:
        return DOCUMENTED_ERRORS[code][0]
    if code == "VERIFICATION_FAILED":
        return state.settings["tryvox_failed_status"]
    if code in TRYVOX_ERRORS:
        return TRYVOX_ERRORS[code][0]
    return MUDBASE_CODES.get(code)


class Family:
    """Defaults shared by the families; see the subclasses."""

    name = ""
    # Bodies for the "malformed", "truncated" and "trickle" faults.
    malformed_body = '{"verified": true, "phone": "+1'
    truncated_body = b'{"success": true, "verified": true, "phone": "+1'
    trickle_obj = {"success": True, "verified": True}

    def fault_status(self, state, fault, own):
        """fault's "status", else own (this API's), else any API's, else
        400."""
        return fault.get("status") or own or \
            code_status(state, fault["code"]) or 400


class BaxVerifyFamily(Family):
    name = "baxverify"
    # (method, path) -> (fault endpoint name, handler, takes a JSON body)
    routes = {
        ("POST", "/v1/auth/sms/send"): ("send", api_send, True),
        ("POST", "/v1/auth/sms/verify"): ("verify", api_verify, True),
        ("POST", "/v1/auth/sms/validate-token"):
            ("validate-token", api_validate_token, True),
        ("GET", "/v1/auth/sms/stats"): ("stats", api_stats, False),
        ("GET", "/v1/auth/sms/logs"): ("logs", api_logs, False),
    }
    endpoint_names = {path: route[0] for (_, path), route in routes.items()}

    def endpoint_for(self, path):
        return self.endpoint_names.get(path)

    def route(self, method, path):
        return self.routes.get((method, path))

    def not_found(self):
        return ApiError("NOT_FOUND")

    def check_headers(self, state, headers, method):
        """The request checks, in this order, before any endpoint logic."""
        if not headers.get("X-Project-Id"):
            raise ApiError("BAXVERIFY_PROJECT_HEADER_REQUIRED")
        # Our choice: the answer to a missing or wrong key is not documented.
        auth = headers.get("Authorization") or ""
        want = "Bearer " + state.api_key
        if not hmac.compare_digest(auth.encode(), want.encode()):
            raise ApiError("UNAUTHORIZED")
        if headers.get("X-Project-Id") != state.project_id:
            raise ApiError("BAXVERIFY_API_KEY_PROJECT_MISMATCH")
        # Our choice: the answer to a wrong Content-Type is not documented.
        if not is_json_post(headers, method):
            raise ApiError("BAD_REQUEST",
                           message="Content-Type must be application/json.")

    def parse_body(self, raw):
        body = parse_json_object(raw)
        if body is None:
            raise ApiError("BAD_REQUEST",
                           message="Request body must be a JSON object.")
        return body

    def error_reply(self, state, err, path):
        return err.status, error_envelope(state, err, path), err.headers

    def fault_error(self, state, fault, path):
        known = DOCUMENTED_ERRORS.get(fault["code"])
        err = ApiError(fault["code"],
                       self.fault_status(state, fault,
                                         known[0] if known else None),
                       fault.get("message"))
        headers = []
        if "retry_after" in fault:
            headers.append(("Retry-After", str(fault["retry_after"])))
        return err.status, error_envelope(state, err, path), headers

    def ratelimit(self, state, fault, path):
        err = ApiError("BAXVERIFY_RATE_LIMIT")
        return 429, error_envelope(state, err, path), \
            [("Retry-After", str(fault.get("retry_after", 60)))]


def error_envelope(state, err, path):
    """The documented error envelope; path is the request path (with /v1)."""
    pid = state.project_id
    return {"success": False,
            "error": {"code": err.code, "message": err.message,
                      "details": {"projectId": pid,
                                  "helpUrl": HELP_URL.format(pid=pid,
                                                             tab=err.tab),
                                  "docsUrl": DOCS_URL}},
            "timestamp": iso_ms(time.time()),
            "path": path}


class TryvoxFamily(Family):
    name = "tryvox"
    prefix = "/v1/verify"
    status_re = re.compile(r"^/v1/verify/([^/]+)$")
    malformed_body = '{"data": {"verification_id": "ver_'
    truncated_body = b'{"data": {"verification_id": "ver_x", "status": "app'
    trickle_obj = {"data": {"status": "approved"}}

    def owns(self, path):
        return path == self.prefix or path.startswith(self.prefix + "/")

    def endpoint_for(self, path):
        if path == "/v1/verify/start":
            return "tryvox-start"
        if path == "/v1/verify/check":
            return "tryvox-check"
        if self.status_re.match(path):
            return "tryvox-status"
        return None

    def route(self, method, path):
        if (method, path) == ("POST", "/v1/verify/start"):
            return "tryvox-start", api_tryvox_start, True
        if (method, path) == ("POST", "/v1/verify/check"):
            return "tryvox-check", api_tryvox_check, True
        m = self.status_re.match(path)
        if method == "GET" and m:
            vid = m.group(1)
            return "tryvox-status", \
                lambda state, query: api_tryvox_status(state, query, vid), \
                False
        return None

    def not_found(self):
        # Our choice: an unknown route (or method) is a 404 before any
        # header check, as for BaxVerify.
        return TryvoxError("NOT_FOUND", message="Route not found")

    def check_headers(self, state, headers, method):
        """Authorization, then X-Tenant-ID, then Content-Type (on POST)."""
        auth = headers.get("Authorization") or ""
        want = "Bearer " + state.tryvox_key
        if not hmac.compare_digest(auth.encode(), want.encode()):
            raise TryvoxError("UNAUTHORIZED")
        tenant = headers.get("X-Tenant-ID")
        # Our choice (undocumented): a missing X-Tenant-ID is
        # VALIDATION_FAILED 400, a wrong one FORBIDDEN 403.
        if not tenant:
            raise tryvox_invalid("X-Tenant-ID", "header is required",
                                 "X-Tenant-ID header is required")
        if tenant != state.tenant_id:
            raise TryvoxError("FORBIDDEN",
                              message="API key does not belong to this "
                                      "tenant")
        # Documented as required; Our choice: VALIDATION_FAILED 400.
        if not is_json_post(headers, method):
            raise tryvox_invalid("Content-Type", "must be application/json",
                                 "Content-Type must be application/json")

    def parse_body(self, raw):
        # Our choice: unparsable JSON is VALIDATION_FAILED.
        body = parse_json_object(raw)
        if body is None:
            raise TryvoxError("VALIDATION_FAILED",
                              message="Request body must be a JSON object")
        return body

    def envelope(self, code, message, details=None):
        # "details" is optional: Our choice: sent only when there are some.
        error = {"code": code, "message": message}
        if details is not None:
            error["details"] = details
        return {"error": error}

    def own_status(self, state, code):
        if code == "VERIFICATION_FAILED":
            return state.settings["tryvox_failed_status"]
        return TRYVOX_ERRORS.get(code, (None,))[0]

    def error_reply(self, state, err, path):
        status = err.status or self.own_status(state, err.code) or 400
        return status, self.envelope(err.code, err.message, err.details), \
            err.headers

    def fault_error(self, state, fault, path):
        code = fault["code"]
        status = self.fault_status(state, fault, self.own_status(state, code))
        message = fault.get("message") or \
            TRYVOX_ERRORS.get(code, (0, "Error"))[1]
        headers = []
        if "retry_after" in fault:
            headers.append(("Retry-After", str(fault["retry_after"])))
        return status, self.envelope(code, message, fault.get("details")), \
            headers

    def ratelimit(self, state, fault, path):
        return 429, self.envelope("RATE_LIMITED",
                                  TRYVOX_ERRORS["RATE_LIMITED"][1]), \
            [("Retry-After", str(fault.get("retry_after", 60)))]


class MudbaseFamily(Family):
    name = "mudbase"
    routes = {
        ("POST", "/api/auth/otp/send"):
            ("mudbase-send", api_mudbase_send, True),
        ("POST", "/api/auth/otp/verify"):
            ("mudbase-verify", api_mudbase_verify, True),
    }
    endpoint_names = {path: route[0] for (_, path), route in routes.items()}
    malformed_body = '{"message": "OTP verified successfully", "token": "ey'
    truncated_body = b'{"message": "OTP verified successfully", "token": "e'
    trickle_obj = {"message": "OTP verified successfully"}

    def owns(self, path):
        return path == "/api" or path.startswith("/api/")

    def endpoint_for(self, path):
        return self.endpoint_names.get(path)

    def route(self, method, path):
        return self.routes.get((method, path))

    def not_found(self):
        return MudbaseError("not_found", "Route not found")

    def check_headers(self, state, headers, method):
        # Public endpoints: no key. Our choice: a POST must still say
        # Content-Type: application/json (the API takes JSON) -> 400.
        if not is_json_post(headers, method):
            raise MudbaseError("bad_request",
                               "Content-Type must be application/json")

    def parse_body(self, raw):
        body = parse_json_object(raw)
        if body is None:
            raise MudbaseError("bad_request",
                               "Request body must be a JSON object")
        return body

    def body(self, code, message, path, extra=None, details=None):
        """The OpenAPI Error schema. Our choice: "details" only when a
        fault gives one; requestId is "req_" + 12 hex digits."""
        obj = {"error": message, "code": code}
        if details is not None:
            obj["details"] = details
        obj.update({"timestamp": iso_ms(time.time()), "path": path,
                    "requestId": "req_" + secrets.token_hex(6)})
        obj.update(extra or {})
        return obj

    def error_reply(self, state, err, path):
        return err.status, self.body(err.code, err.message, path, err.extra), \
            err.headers

    def fault_error(self, state, fault, path):
        code = fault["code"]
        status = self.fault_status(state, fault, MUDBASE_CODES.get(code))
        headers, extra = [], {}
        if "retry_after" in fault:
            headers.append(("Retry-After", str(fault["retry_after"])))
            extra["retryAfter"] = fault["retry_after"]
        message = fault.get("message") or MUDBASE_MESSAGES.get(code, "Error")
        return status, self.body(code, message, path, extra,
                                 fault.get("details")), headers

    def ratelimit(self, state, fault, path):
        wait = fault.get("retry_after", 60)
        return 429, self.body("rate_limited", "Too many requests", path,
                              {"retryAfter": wait}), \
            [("Retry-After", str(wait))]


BAXVERIFY = BaxVerifyFamily()
TRYVOX = TryvoxFamily()
MUDBASE = MudbaseFamily()


def family_for(path):
    """The API a request path belongs to; BaxVerify for anything else (so
    unknown paths keep their old BaxVerify 404)."""
    for family in (TRYVOX, MUDBASE):
        if family.owns(path):
            return family
    return BAXVERIFY


# --- Control API -----------------------------------------------------------
# Each takes (server, body, query) and returns (status, object).

def control_reset(server, body, query):
    """POST /_mock/reset: forget everything (all three APIs), back to the
    command-line settings."""
    server.state.reset()
    return 200, {"ok": True}


def control_config(server, body, query):
    """POST /_mock/config with any subset of:
    "force_code": "123456"|null (every API; any length),
    BaxVerify: "code_ttl", "max_attempts", "token_ttl", "send_limit",
    "send_window", "code_length";
    Tryvox: "tryvox_ttl", "tryvox_start_limit", "tryvox_start_window",
    "tryvox_max_attempts", "tryvox_failed_status" (422|400),
    "tryvox_fifth_reply" ("failed"|"max_attempts"), "tryvox_after_failed"
    ("not_found"|"max_attempts");
    Mudbase: "mudbase_ttl", "mudbase_send_limit", "mudbase_send_window",
    "mudbase_max_attempts", "mudbase_token_ttl", "mudbase_code_length",
    "mudbase_wrong_status" (400|401).
    GET (or POST) returns all current values."""
    changes = {}
    for name, value in body.items():
        if name == "force_code":
            if value is not None and (not isinstance(value, str) or
                                      not value):
                raise ControlError("force_code: string or null")
        elif name in TUNABLES:
            kind, minimum = TUNABLES[name]
            if type(value) is not kind or value < minimum:
                raise ControlError("%s: integer >= %d" % (name, minimum))
        elif name in SWITCHES:
            kind, choices, _ = SWITCHES[name]
            if type(value) is not kind or value not in choices:
                raise ControlError("%s: one of %s" % (
                    name, ", ".join(json.dumps(c) for c in choices)))
        else:
            raise ControlError("unknown setting %r" % name)
        changes[name] = value
    state = server.state
    with state.lock:  # all or nothing: everything was checked above
        state.force_code = changes.pop("force_code", state.force_code)
        state.settings.update(changes)
        return 200, dict(state.settings, force_code=state.force_code)


def control_outbox(server, body, query):
    """GET /_mock/outbox -> {"messages": [{api, phone, to, channel, code,
    [purpose (baxverify), verification_id (tryvox)], time}]}, oldest
    first. "phone" equals "to", also for email."""
    with server.state.lock:
        return 200, {"messages": list(server.state.outbox)}


def control_outbox_last(server, body, query):
    """GET /_mock/outbox/last?phone=%2B1... (or ?to=...; to wins if both)
    -> the newest message to that destination, whatever the API, or 404."""
    dest = (query.get("to") or query.get("phone") or [""])[-1]
    if dest.startswith(" "):  # an unencoded "+" arrives as a space
        dest = "+" + dest[1:]
    with server.state.lock:
        for msg in reversed(server.state.outbox):
            if msg.get("to", msg["phone"]) == dest:
                return 200, dict(msg)
    raise ControlError("no message to %r" % dest, 404)


def control_expire(server, body, query):
    """POST /_mock/expire {"phone"} or {"to"}: the destination's live codes
    expire now in every API (BaxVerify code, every pending Tryvox
    verification, Mudbase code). -> {"ok", "expired": bool, "apis": [names
    of the APIs where something expired]}."""
    state = server.state
    dest = body.get("to", body.get("phone"))
    if not isinstance(dest, str):
        raise ControlError("phone (or to): string")
    now = time.time()
    apis = []
    with state.lock:
        entry = state.codes.get(dest)
        if entry is not None:
            entry["expires"] = now - 1
            apis.append("baxverify")
        hit = False
        for v in state.tryvox.values():
            tryvox_refresh(v, now)
            if v["to"] == dest and v["status"] == "pending":
                v["expires"] = now
                v["status"] = "expired"
                hit = True
        if hit:
            apis.append("tryvox")
        entry = state.mudbase.get(dest)
        if entry is not None and now < entry["expires"]:
            entry["expires"] = now - 1
            apis.append("mudbase")
        return 200, {"ok": True, "expired": bool(apis), "apis": apis}


def control_fault(server, body, query):
    """POST /_mock/fault {"endpoint", "kind", "count", ...} adds a fault;
    {"clear": true} removes them all. GET lists them.
    endpoint: send, verify, validate-token, stats, logs, tryvox-start,
    tryvox-check, tryvox-status, mudbase-send, mudbase-verify or "*".
    kind "error" takes "code" and optional "status", "message",
    "retry_after", "details" and answers in the body of the API hit."""
    state = server.state
    if body.get("clear"):
        with state.lock:
            state.faults = []
        return 200, {"ok": True, "faults": []}
    fault = validate_fault(body)
    with state.lock:
        state.fault_serial += 1
        fault["id"] = state.fault_serial
        state.faults.append(fault)
        return 200, {"ok": True, "faults": list(state.faults)}


def control_fault_list(server, body, query):
    with server.state.lock:
        return 200, {"faults": list(server.state.faults)}


def fault_code_known(endpoint, code):
    """Whether an "error" fault's code has a documented status for the
    endpoint's API (any API for "*")."""
    if endpoint in TRYVOX_ENDPOINTS:
        return code in TRYVOX_ERRORS
    if endpoint in MUDBASE_ENDPOINTS:
        return code in MUDBASE_CODES
    if endpoint == "*":
        return code in DOCUMENTED_ERRORS or code in TRYVOX_ERRORS or \
            code in MUDBASE_CODES
    return code in DOCUMENTED_ERRORS


def validate_fault(body):
    fault = dict(body)
    fault.setdefault("endpoint", "*")
    fault.setdefault("count", None)
    if fault["endpoint"] not in FAULT_ENDPOINTS:
        raise ControlError("endpoint: one of %s" % ", ".join(FAULT_ENDPOINTS))
    if fault.get("kind") not in FAULT_KINDS:
        raise ControlError("kind: one of %s" % ", ".join(FAULT_KINDS))
    count = fault["count"]
    if count is not None and (type(count) is not int or count < 1):
        raise ControlError("count: positive integer or null")
    if fault["kind"] == "error":
        code = fault.get("code")
        if not isinstance(code, str) or not code:
            raise ControlError("error fault needs a \"code\"")
        if not fault_code_known(fault["endpoint"], code) and \
                "status" not in fault:
            raise ControlError("undocumented code needs a \"status\"")
    for key in ("status", "retry_after", "size"):
        if key in fault and type(fault[key]) is not int:
            raise ControlError("%s: integer" % key)
    for key in ("seconds", "interval"):
        if key in fault and not isinstance(fault[key], (int, float)):
            raise ControlError("%s: number" % key)
    if "message" in fault and not isinstance(fault["message"], str):
        raise ControlError("message: string")
    return fault


def control_requests(server, body, query):
    """GET /_mock/requests -> {"requests": [{"method", "path", "headers",
    "body", "connection"}]} for every non-control request (all APIs),
    oldest first."""
    with server.state.lock:
        return 200, {"requests": list(server.state.requests)}


def control_stats(server, body, query):
    """GET /_mock/stats -> {"connections", "requests", "accepted",
    "handshake_failures"} since the last reset. "connections" counts the
    TCP connections that carried at least one non-control request, so the
    test's own control calls do not disturb it."""
    state = server.state
    with state.lock:
        return 200, {"connections": state.connections,
                     "requests": len(state.requests),
                     "accepted": state.accepted_since_reset,
                     "handshake_failures": state.handshake_failures}


CONTROL_ROUTES = {
    ("POST", "/_mock/reset"): control_reset,
    ("POST", "/_mock/config"): control_config,
    ("GET", "/_mock/config"): control_config,
    ("GET", "/_mock/outbox"): control_outbox,
    ("GET", "/_mock/outbox/last"): control_outbox_last,
    ("POST", "/_mock/expire"): control_expire,
    ("POST", "/_mock/fault"): control_fault,
    ("GET", "/_mock/fault"): control_fault_list,
    ("GET", "/_mock/requests"): control_requests,
    ("GET", "/_mock/stats"): control_stats,
}


# --- HTTP -------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """One instance per TCP connection; handles its keep-alive requests."""

    protocol_version = "HTTP/1.1"
    server_version = "BaxVerifyMock/1.0"
    timeout = IDLE_TIMEOUT  # set on the socket by setup()

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.conn_id = self.server.local.conn_id
        self.counted = False  # has this connection carried API traffic?

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except OSError:  # includes SSL errors, resets and timeouts
            self.close_connection = True

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # --- responses ---

    def response_bytes(self, status, headers, body, content_length=None):
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Server: " + self.version_string(),
                 "Date: " + self.date_time_string()]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        if content_length is None:
            content_length = len(body)
        lines.append("Content-Length: %d" % content_length)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body

    def send_raw(self, status, headers, body):
        """Write a whole response in one write (see TESTING.md on Nagle)."""
        self.wfile.write(self.response_bytes(status, headers, body))
        self.log_request(status, len(body))

    def send_json(self, status, obj, headers=()):
        body = json.dumps(obj, ensure_ascii=False,
                          separators=COMPACT).encode("utf-8")
        self.send_raw(status, [("Content-Type",
                                "application/json; charset=utf-8")] +
                      list(headers), body)

    # --- request plumbing ---

    def read_body(self):
        """The request body, or None after answering an unreadable one."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self.send_json(411, {"error": "chunked bodies not supported"})
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_REQUEST_BODY:
            self.close_connection = True
            self.send_json(413 if length > 0 else 400,
                           {"error": "bad Content-Length"})
            return None
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            self.close_connection = True
            return None
        return data

    def dispatch(self):
        raw = self.read_body()
        if raw is None:
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path == CONTROL_PREFIX or \
                url.path.startswith(CONTROL_PREFIX + "/"):
            self.dispatch_control(url.path, query, raw)
        else:
            self.dispatch_api(url.path, query, raw)

    def dispatch_control(self, path, query, raw):
        route = CONTROL_ROUTES.get((self.command, path))
        try:
            if route is None:
                raise ControlError("no control route %s %s" %
                                   (self.command, path), 404)
            try:
                body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            except (ValueError, UnicodeError):
                body = None
            if not isinstance(body, dict):
                raise ControlError("body must be a JSON object")
            status, obj = route(self.server, body, query)
        except ControlError as err:
            status, obj = err.status, {"error": str(err)}
        self.send_json(status, obj)

    def record(self, raw):
        """Remember a non-control request for GET /_mock/requests."""
        try:
            text = raw.decode("utf-8")
        except UnicodeError:
            text = raw.decode("latin-1")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value \
                if name in headers else value
        state = self.server.state
        with state.lock:
            if not self.counted:
                self.counted = True
                state.connections += 1
            state.requests.append({"method": self.command, "path": self.path,
                                   "headers": headers, "body": body,
                                   "connection": self.conn_id})

    def dispatch_api(self, path, query, raw):
        state = self.server.state
        self.record(raw)
        family = family_for(path)
        fault = state.take_fault(family.endpoint_for(path))
        if fault and self.apply_fault(fault, path, family):
            return
        try:
            route = family.route(self.command, path)
            # Our choice: an unknown route (or method) is a 404 before any
            # header check.
            if route is None:
                raise family.not_found()
            _, handler, wants_body = route
            family.check_headers(state, self.headers, self.command)
            with state.lock:
                if wants_body:
                    result = handler(state, family.parse_body(raw), query)
                else:
                    result = handler(state, query)
            status, obj, headers = result
        except MockApiError as err:
            status, obj, headers = family.error_reply(state, err, path)
        if fault and fault["kind"] == "oversized":
            obj["padding"] = "x" * fault.get("size", 200 * 1024)
        self.send_json(status, obj, headers)

    # --- faults ---

    def apply_fault(self, fault, path, family):
        """Misbehave as fault says, in the manner of family's API. True if
        the response has been dealt with; False to go on with normal
        processing (delay, oversized)."""
        kind = fault["kind"]
        state = self.server.state
        if kind == "delay":
            time.sleep(fault.get("seconds", 1))
            return False
        if kind == "oversized":
            return False
        if kind == "error":
            with state.lock:
                self.send_json(*family.fault_error(state, fault, path))
        elif kind == "ratelimit":
            self.send_json(*family.ratelimit(state, fault, path))
        elif kind == "http500":
            body = (b"<html><head><title>500 Internal Server Error</title>"
                    b"</head><body><h1>Internal Server Error</h1>"
                    b"</body></html>\n")
            self.send_raw(fault.get("status", 500),
                          [("Content-Type", "text/html")], body)
        elif kind == "malformed":
            body = fault.get("body", family.malformed_body)
            self.send_raw(200, [("Content-Type", "application/json")],
                          str(body).encode("utf-8"))
        elif kind == "wrongshape":
            self.send_json(200, fault.get("body", ["unexpected", "shape"]))
        elif kind == "empty":
            self.send_raw(fault.get("status", 200), [], b"")
        elif kind == "redirect":
            location = fault.get("location") or "https://localhost:%d/" \
                "redirected%s" % (self.server.server_port, path)
            self.send_json(fault.get("status", 302), {"location": location},
                           [("Location", location)])
        elif kind == "drop":
            self.close_connection = True
        elif kind == "truncated":
            body = family.truncated_body
            self.close_connection = True
            self.wfile.write(self.response_bytes(
                200, [("Content-Type", "application/json")], body,
                content_length=len(body) + 1000))
        elif kind == "hang":
            self.hang(fault.get("seconds", SLOW_FAULT_LIMIT))
        elif kind == "trickle":
            self.trickle(fault.get("interval", 1.0), family)
        return True

    def hang(self, limit):
        """Answer nothing until the client goes away, the mock is reset, or
        limit seconds pass; then close. Only this connection's thread
        waits."""
        self.close_connection = True
        sock = self.connection
        state = self.server.state
        generation = state.generation
        deadline = time.monotonic() + min(limit, SLOW_FAULT_LIMIT)
        sock.settimeout(1)
        while time.monotonic() < deadline and state.generation == generation:
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending()
            if not pending:
                readable, _, _ = select.select([sock], [], [], 0.5)
                if not readable:
                    continue
            try:
                if not sock.recv(4096):
                    return  # the client closed the connection
            except (ssl.SSLWantReadError, socket.timeout):
                continue
            except OSError:
                return

    def trickle(self, interval, family=BAXVERIFY):
        """Write a normal-looking response one byte per interval."""
        self.close_connection = True
        state = self.server.state
        generation = state.generation
        body = json.dumps(family.trickle_obj, separators=COMPACT).encode()
        data = self.response_bytes(
            200, [("Content-Type", "application/json")], body)
        deadline = time.monotonic() + SLOW_FAULT_LIMIT
        for i in range(len(data)):
            if time.monotonic() > deadline or state.generation != generation:
                return
            self.wfile.write(data[i:i + 1])
            time.sleep(interval)


class MockServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # hanging handlers must not delay exit
    request_queue_size = 64

    def __init__(self, address, state, ssl_context, verbose):
        self.state = state
        self.conn_ids = {}  # fd -> connection number, until its thread runs
        self.local = threading.local()  # conn_id of this thread's connection
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = self.socket.accept()
        # Headers and body go out in one write anyway; NODELAY also keeps
        # the TLS records of a response from waiting on delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.state.lock:
            self.state.accepted += 1
            self.state.accepted_since_reset += 1
            self.conn_ids[sock.fileno()] = self.state.accepted
        return sock, addr

    def finish_request(self, request, client_address):
        """Runs in the connection's thread: the TLS handshake happens here,
        so a client that never finishes it blocks nobody else."""
        conn = request
        with self.state.lock:
            self.local.conn_id = self.conn_ids.pop(request.fileno(), None)
        try:
            if self.ssl_context is not None:
                request.settimeout(HANDSHAKE_TIMEOUT)
                try:
                    conn = self.ssl_context.wrap_socket(request,
                                                        server_side=True)
                except (ssl.SSLError, OSError):
                    with self.state.lock:
                        self.state.handshake_failures += 1
                    return
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            conn.close()

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Mock BaxVerify, Tryvox Verify and Mudbase OTP API "
                    "server.")
    p.add_argument("--cert", help="server certificate (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--plain", action="store_true",
                   help="serve plain HTTP (only for the https-only test)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--project-id", default="proj_test")
    p.add_argument("--api-key", default="test-key")
    p.add_argument("--code-ttl", type=int, default=300)
    p.add_argument("--max-attempts", type=int, default=5)
    p.add_argument("--token-ttl", type=int, default=900)
    p.add_argument("--send-limit", type=int, default=5)
    p.add_argument("--send-window", type=int, default=60)
    p.add_argument("--code-length", type=int, default=6)
    p.add_argument("--tryvox-key", default="tvx_sk_test_key",
                   help="Tryvox API key (Authorization: Bearer KEY)")
    p.add_argument("--tenant-id", default="acc_test",
                   help="Tryvox tenant (X-Tenant-ID)")
    p.add_argument("--mudbase-project", default="proj_mud",
                   help="the one Mudbase projectId that exists")
    for name, default in NEW_TUNABLE_DEFAULTS.items():
        p.add_argument("--" + name.replace("_", "-"), type=int,
                       default=default)
    for name, (kind, choices, default) in SWITCHES.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind,
                       choices=choices, default=default)
    p.add_argument("--verbose", action="store_true",
                   help="log requests and errors to stderr")
    args = p.parse_args(argv)
    if not args.plain and not (args.cert and args.key):
        p.error("--cert and --key are required unless --plain is given")
    for name, (_, minimum) in TUNABLES.items():
        if getattr(args, name) < minimum:
            p.error("--%s must be >= %d" % (name.replace("_", "-"), minimum))
    return args


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def stop(signum, frame):
    """SIGTERM/SIGINT: leave serve_forever() and exit 0."""
    raise SystemExit(0)


def main(argv):
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    args = parse_args(argv)
    ctx = None
    if not args.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    settings = {name: getattr(args, name)
                for name in list(TUNABLES) + list(SWITCHES)}
    state = State(args.project_id, args.api_key, settings,
                  tryvox_key=args.tryvox_key, tenant_id=args.tenant_id,
                  mudbase_project=args.mudbase_project)
    server = MockServer((args.host, args.port), state, ctx, args.verbose)
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print("READY %d" % port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
