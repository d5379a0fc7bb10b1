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

This file is the command line; the server is the package mockapi/ next
to it: one module per API (baxverify.py, tryvox.py, mudbase.py: endpoint
handlers and the "family" of each - routing, headers, error bodies, fault
replies), common.py (helpers, state) and server.py (the control API, HTTP
plumbing) shared.
"""

import argparse
import os
import signal
import ssl
import sys

# The package lives next to this file; no .pyc files in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mockapi.common import (  # noqa: E402
    NEW_TUNABLE_DEFAULTS, SWITCHES, State, TUNABLES)
from mockapi.server import MockServer  # noqa: E402


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
