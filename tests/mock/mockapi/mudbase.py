"""The Mudbase OTP API (/api/auth/otp/*, per shared/api/mudbase.md): its
error codes, endpoint handlers and family."""

import hashlib
import hmac
import math
import secrets
import time

from .common import (
    EMAIL_RE, ERROR_STATUS, Family, MockApiError, PHONE_RE, is_json_post,
    iso_ms, jwt_encode, parse_json_object, retry_after)


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


MUDBASE_ENDPOINTS = ("mudbase-send", "mudbase-verify")


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


# --- Endpoint handlers ------------------------------------------------------
# Same calling convention as the BaxVerify handlers; they raise MudbaseError.
# Public endpoints: the project comes from "projectId" in the body; the
# Authorization header is not looked at (it is recorded, like every header,
# in /_mock/requests).

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


# --- The family -----------------------------------------------------------

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


MUDBASE = MudbaseFamily()


def error_status(state, code):
    """The status Mudbase answers an error code with, or None."""
    return MUDBASE_CODES.get(code)


ERROR_STATUS.append(error_status)
