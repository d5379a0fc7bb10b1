"""What the three mock APIs share: settings, time and id helpers, the
HS256 JWT of the proof tokens, the error base classes, the state (one lock
for everything), JSON request helpers and the base of the per-API
"families"."""

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time


COMPACT = (",", ":")  # JSON separators: compact, as typical web APIs answer

PHONE_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Our choice: what counts as an email address (Tryvox `to` for channel
# email, Mudbase `email`): something@something.tld, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


# --- API families -----------------------------------------------------------
# One per API (in its module): which paths it owns, its routes, its header
# checks, and how it renders errors and faults.

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


# error_status(state, code) of each API: the HTTP status it documents for
# an error code, or None.  Each API module adds its own when imported, in
# the order server.py imports them: BaxVerify, Tryvox, Mudbase.
ERROR_STATUS = []


def code_status(state, code):
    """The status any API documents for an error code, or None (the
    first API, in the order above, that knows the code)."""
    for error_status in ERROR_STATUS:
        status = error_status(state, code)
        if status is not None:
            return status
    return None


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
