#!/usr/bin/python3
"""Mock BaxVerify (BaxCloud SMS OTP) API server for the pam_baxverify tests.

Stdlib only; runs with /usr/bin/python3 and any python3 >= 3.7.

The API under /v1 follows shared/api/baxverify.md: the documented error
envelope, codes and HTTP statuses. Where the documentation is silent (the
send response, stats, logs, the answer to a bad Authorization header, bad
JSON, unknown routes) the choice made here is marked "Our choice" and must
not be relied on by the client beyond what the documentation promises.

A control API under /_mock (no authentication, JSON in and out) lets tests
read the SMS outbox, change limits, expire codes, inject faults and inspect
the requests the client made. See the docstring of each control_* function.

    mock_baxverify.py --cert server.pem --key server.key --port-file PATH

prints "READY <port>" on stdout once it listens and exits 0 on SIGTERM.
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

FAULT_ENDPOINTS = ("send", "verify", "validate-token", "stats", "logs", "*")
FAULT_KINDS = ("error", "http500", "malformed", "wrongshape", "empty",
               "oversized", "delay", "hang", "drop", "truncated", "trickle",
               "redirect", "ratelimit")

# Settings that /_mock/config may change: name -> (type, minimum).
TUNABLES = {
    "code_ttl": (int, 0),
    "max_attempts": (int, 0),
    "token_ttl": (int, 0),
    "send_limit": (int, 0),
    "send_window": (int, 1),
    "code_length": (int, 1),
}


def iso_ms(t):
    """Unix time -> ISO-8601 UTC with milliseconds and Z."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
        ".%03dZ" % (ms % 1000)


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


# --- State ------------------------------------------------------------------

class ApiError(Exception):
    """An API failure, answered with the documented error envelope."""

    def __init__(self, code, status=None, message=None, headers=None):
        super().__init__(code)
        known = DOCUMENTED_ERRORS.get(code) or UNDOCUMENTED_ERRORS.get(code)
        self.code = code
        self.status = status or (known[0] if known else 400)
        self.message = message or (known[1] if known else "Error.")
        self.tab = known[2] if known else "baxverify"
        self.headers = headers or []


class ControlError(Exception):
    """A bad control-API request: 400 (or status) {"error": message}."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class State:
    """Everything the mock remembers, guarded by one lock."""

    def __init__(self, project_id, api_key, defaults):
        self.lock = threading.RLock()
        self.project_id = project_id
        self.api_key = api_key
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

    def new_code(self):
        if self.force_code is not None:
            return self.force_code
        n = self.settings["code_length"]
        return str(secrets.randbelow(10 ** n)).zfill(n)

    def add_log(self, phone, purpose):
        item = {"id": "log_%d" % (len(self.logs) + 1), "phone": phone,
                "status": "sent", "purpose": purpose, "time": time.time()}
        self.logs.append(item)
        return item


# --- API handlers ----------------------------------------------------------
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
    state.outbox.append({"phone": phone, "code": code, "purpose": purpose,
                         "time": now})
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


# (method, path) -> (fault endpoint name, handler, takes a JSON body)
API_ROUTES = {
    ("POST", "/v1/auth/sms/send"): ("send", api_send, True),
    ("POST", "/v1/auth/sms/verify"): ("verify", api_verify, True),
    ("POST", "/v1/auth/sms/validate-token"):
        ("validate-token", api_validate_token, True),
    ("GET", "/v1/auth/sms/stats"): ("stats", api_stats, False),
    ("GET", "/v1/auth/sms/logs"): ("logs", api_logs, False),
}
ENDPOINT_NAMES = {path: route[0] for (_, path), route in API_ROUTES.items()}


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


def check_headers(state, headers, method):
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
    if method == "POST":
        # Our choice: the answer to a wrong Content-Type is not documented.
        ctype = (headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/json":
            raise ApiError("BAD_REQUEST",
                           message="Content-Type must be application/json.")


def parse_json_object(raw):
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError("BAD_REQUEST",
                       message="Request body must be a JSON object.")
    return body


# --- Control API -----------------------------------------------------------
# Each takes (server, body, query) and returns (status, object).

def control_reset(server, body, query):
    """POST /_mock/reset: forget everything, back to command-line settings."""
    server.state.reset()
    return 200, {"ok": True}


def control_config(server, body, query):
    """POST /_mock/config {"force_code": "123456"|null, "code_ttl": N,
    "max_attempts": N, "token_ttl": N, "send_limit": N, "send_window": N,
    "code_length": N} (any subset); GET returns the current values."""
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
        else:
            raise ControlError("unknown setting %r" % name)
        changes[name] = value
    state = server.state
    with state.lock:  # all or nothing: everything was checked above
        state.force_code = changes.pop("force_code", state.force_code)
        state.settings.update(changes)
        return 200, dict(state.settings, force_code=state.force_code)


def control_outbox(server, body, query):
    """GET /_mock/outbox -> {"messages": [{phone, code, purpose, time}]}."""
    with server.state.lock:
        return 200, {"messages": list(server.state.outbox)}


def control_outbox_last(server, body, query):
    """GET /_mock/outbox/last?phone=%2B1... -> the newest message to that
    phone {"phone", "code", "purpose", "time"}, or 404."""
    phone = (query.get("phone") or [""])[-1]
    if phone.startswith(" "):  # an unencoded "+" arrives as a space
        phone = "+" + phone[1:]
    with server.state.lock:
        for msg in reversed(server.state.outbox):
            if msg["phone"] == phone:
                return 200, dict(msg)
    raise ControlError("no message to %r" % phone, 404)


def control_expire(server, body, query):
    """POST /_mock/expire {"phone"}: that phone's current code expires now."""
    state = server.state
    phone = body.get("phone")
    if not isinstance(phone, str):
        raise ControlError("phone: string")
    with state.lock:
        entry = state.codes.get(phone)
        if entry is not None:
            entry["expires"] = time.time() - 1
        return 200, {"ok": True, "expired": entry is not None}


def control_fault(server, body, query):
    """POST /_mock/fault {"endpoint", "kind", "count", ...} adds a fault;
    {"clear": true} removes them all. GET lists them."""
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
        if code not in DOCUMENTED_ERRORS and "status" not in fault:
            raise ControlError("undocumented code needs a \"status\"")
    for key in ("status", "retry_after", "size"):
        if key in fault and type(fault[key]) is not int:
            raise ControlError("%s: integer" % key)
    for key in ("seconds", "interval"):
        if key in fault and not isinstance(fault[key], (int, float)):
            raise ControlError("%s: number" % key)
    return fault


def control_requests(server, body, query):
    """GET /_mock/requests -> {"requests": [{"method", "path", "headers",
    "body", "connection"}]} for every non-control request, oldest first."""
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
        fault = state.take_fault(ENDPOINT_NAMES.get(path))
        if fault and self.apply_fault(fault, path):
            return
        try:
            route = API_ROUTES.get((self.command, path))
            # Our choice: an unknown route (or method) is a 404 before any
            # header check.
            if route is None:
                raise ApiError("NOT_FOUND")
            _, handler, wants_body = route
            check_headers(state, self.headers, self.command)
            with state.lock:
                if wants_body:
                    result = handler(state, parse_json_object(raw), query)
                else:
                    result = handler(state, query)
            status, obj, headers = result
        except ApiError as err:
            status, obj, headers = (err.status,
                                    error_envelope(state, err, path),
                                    err.headers)
        if fault and fault["kind"] == "oversized":
            obj["padding"] = "x" * fault.get("size", 200 * 1024)
        self.send_json(status, obj, headers)

    # --- faults ---

    def apply_fault(self, fault, path):
        """Misbehave as fault says. True if the response has been dealt
        with; False to go on with normal processing (delay, oversized)."""
        kind = fault["kind"]
        if kind == "delay":
            time.sleep(fault.get("seconds", 1))
            return False
        if kind == "oversized":
            return False
        if kind == "error":
            err = ApiError(fault["code"], fault.get("status"),
                           fault.get("message"))
            headers = []
            if "retry_after" in fault:
                headers.append(("Retry-After", str(fault["retry_after"])))
            self.send_json(err.status, error_envelope(self.server.state, err,
                                                      path), headers)
        elif kind == "ratelimit":
            err = ApiError("BAXVERIFY_RATE_LIMIT")
            self.send_json(429, error_envelope(self.server.state, err, path),
                           [("Retry-After", str(fault.get("retry_after",
                                                          60)))])
        elif kind == "http500":
            body = (b"<html><head><title>500 Internal Server Error</title>"
                    b"</head><body><h1>Internal Server Error</h1>"
                    b"</body></html>\n")
            self.send_raw(fault.get("status", 500),
                          [("Content-Type", "text/html")], body)
        elif kind == "malformed":
            body = fault.get("body", '{"verified": true, "phone": "+1')
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
            body = b'{"success": true, "verified": true, "phone": "+1'
            self.close_connection = True
            self.wfile.write(self.response_bytes(
                200, [("Content-Type", "application/json")], body,
                content_length=len(body) + 1000))
        elif kind == "hang":
            self.hang(fault.get("seconds", SLOW_FAULT_LIMIT))
        elif kind == "trickle":
            self.trickle(fault.get("interval", 1.0))
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

    def trickle(self, interval):
        """Write a normal-looking response one byte per interval."""
        self.close_connection = True
        state = self.server.state
        generation = state.generation
        body = json.dumps({"success": True, "verified": True},
                          separators=COMPACT).encode()
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
    p = argparse.ArgumentParser(description="Mock BaxVerify API server.")
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
    state = State(args.project_id, args.api_key,
                  {name: getattr(args, name) for name in TUNABLES})
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
