"""The BaxVerify SMS API (/v1/auth/sms/*, per shared/api/baxverify.md):
its error table, endpoint handlers and family (routing, header checks,
error envelope, fault replies)."""

import hmac
import math
import secrets
import time

from .common import (
    ERROR_STATUS, Family, MockApiError, PHONE_RE, is_json_post, iso_ms,
    jwt_decode, jwt_encode, parse_json_object)


DOCS_URL = "https://baxcloud.tech/docs/baxverify"
HELP_URL = "https://baxcloud.tech/dashboard/projects/{pid}?tab={tab}"


LOGS_MAX_LIMIT = 100


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


BAXVERIFY_ENDPOINTS = ("send", "verify", "validate-token", "stats", "logs")


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


# --- Endpoint handlers ------------------------------------------------------
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


# --- The family -----------------------------------------------------------

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


BAXVERIFY = BaxVerifyFamily()


def error_status(state, code):
    """The status BaxVerify documents for an error code, or None."""
    if code in DOCUMENTED_ERRORS:
        return DOCUMENTED_ERRORS[code][0]
    return None


ERROR_STATUS.append(error_status)
