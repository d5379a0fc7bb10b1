"""The Tryvox Verify API (/v1/verify/*, per shared/api/tryvox.md): its
error table, endpoint handlers and family."""

import hmac
import re
import time

from .common import (
    EMAIL_RE, ERROR_STATUS, Family, MockApiError, PHONE_RE, is_json_post,
    iso_s, parse_json_object, random_id, retry_after)


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


TRYVOX_ENDPOINTS = ("tryvox-start", "tryvox-check", "tryvox-status")


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


# --- Endpoint handlers ------------------------------------------------------
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


# --- The family -----------------------------------------------------------

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


TRYVOX = TryvoxFamily()


def error_status(state, code):
    """The status Tryvox documents for an error code (for
    VERIFICATION_FAILED the configured one), or None."""
    if code == "VERIFICATION_FAILED":
        return state.settings["tryvox_failed_status"]
    if code in TRYVOX_ERRORS:
        return TRYVOX_ERRORS[code][0]
    return None


ERROR_STATUS.append(error_status)
