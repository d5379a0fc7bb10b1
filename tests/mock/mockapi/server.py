"""The shared part of the mock server: the control API under /_mock, the
HTTP request handler (routing to the API families, recording, faults) and
the threading HTTPS server."""

from urllib.parse import parse_qs, urlsplit
import http.server
import json
import select
import socket
import socketserver
import ssl
import threading
import time

from .common import COMPACT, ControlError, MockApiError, SWITCHES, TUNABLES
# In this order: it is the order of common.ERROR_STATUS.
from .baxverify import BAXVERIFY, BAXVERIFY_ENDPOINTS, DOCUMENTED_ERRORS
from .tryvox import TRYVOX, TRYVOX_ENDPOINTS, TRYVOX_ERRORS, tryvox_refresh
from .mudbase import MUDBASE, MUDBASE_CODES, MUDBASE_ENDPOINTS


CONTROL_PREFIX = "/_mock"


MAX_REQUEST_BODY = 1024 * 1024  # refuse larger request bodies (413)
HANDSHAKE_TIMEOUT = 10  # seconds a client gets to finish the TLS handshake
IDLE_TIMEOUT = 300  # seconds an idle keep-alive connection is kept
SLOW_FAULT_LIMIT = 120  # "hang" and "trickle" give up after this long


FAULT_ENDPOINTS = BAXVERIFY_ENDPOINTS + TRYVOX_ENDPOINTS + \
    MUDBASE_ENDPOINTS + ("*",)
FAULT_KINDS = ("error", "http500", "malformed", "wrongshape", "empty",
               "oversized", "delay", "hang", "drop", "truncated", "trickle",
               "redirect", "ratelimit")


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
