"""`ketalog listen-hl7`: the monitor feed without the GUI (a service on the clinic's
workstation, or on its server machine for a clinic server: packaging/linux/
ketalog-hl7.service). Runs until SIGINT or SIGTERM, then stops cleanly: it finishes the message
in hand, closes its connections and the database, and audits the stop.
`ketalog send-hl7` is its counterpart for trying it: a stand-in monitor."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from ketalog.cli import context
from ketalog.domain.clock import to_iso

if TYPE_CHECKING:
    from ketalog.services.device_feed import FeedResult
    from ketalog.services.monitor_simulator import Answer


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("listen-hl7", help="receive HL7 v2 ORU^R01 vitals from monitors (MLLP)")
    p.add_argument("--host", help="address to listen on (default: clinic setting, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: clinic setting, 2575; 0 = any)")
    p.add_argument("--max-frame-kb", type=int, default=1024,
                   help="largest message accepted, in KiB (default 1024)")
    p.add_argument("--quiet", action="store_true", help="no line per message")
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="FILE|postgresql://...",
                   help="the database (or KETALOG_DB), after the command as well as before")
    p.set_defaults(func=cmd_listen_hl7)


def cmd_listen_hl7(args: argparse.Namespace) -> int:
    from ketalog.services.device_feed_settings import feed_settings_for_listener
    from ketalog.services.device_listener import Hl7Listener

    store, key = context.open_db_with_key(args)
    try:
        configured = feed_settings_for_listener(store)
    finally:
        store.close()
    host = args.host or configured.host
    port = configured.port if args.port is None else args.port

    def show(result: FeedResult) -> None:
        if not args.quiet:
            control = result.header.control_id if result.header else "-"
            print(f"{to_iso(args.clock.now())} {result.ack_code} {control}: {result.text}",
                  flush=True)

    listener = Hl7Listener(args.server or args.db, host, port, clock=args.clock,
                           max_frame_bytes=max(1, args.max_frame_kb) * 1024, on_result=show,
                           passphrase=key)
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        listener.start()
        bound_host, bound_port = listener.address
        print(f"listening for HL7 on {bound_host}:{bound_port} (database {args.where}); "
              "Ctrl+C stops", flush=True)
        while not done.wait(0.5):
            pass
    except OSError as exc:
        print(f"ketalog: error: cannot listen on {host}:{port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    finally:
        listener.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    s = listener.stats
    print(f"stopped: {s.accepted} accepted, {s.refused} refused, {s.connections} connection(s)",
          flush=True)
    return 0


def add_sender(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("send-hl7", help="act as a patient monitor: send ORU^R01 vitals to a "
                                        "listener (to try the feed)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2575)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--mrn", help="patient id sent in PID-3")
    target.add_argument("--bed", help="chair sent in PV1-3 (e.g. CHAIR2)")
    p.add_argument("--app", default="KETALOG_SIM", help="sending application (MSH-3)")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--interval", type=float, default=5.0, help="seconds between messages")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_send_hl7)


def cmd_send_hl7(args: argparse.Namespace) -> int:
    """Slowly drifting, plausible vitals, one message per interval; a line per ACK."""
    from ketalog.services.monitor_simulator import send_simulated

    def show(answer: Answer) -> None:
        print(f"{answer.control_id}: {answer.ack_code} {answer.text}", flush=True)

    try:
        send_simulated(args.host, args.port, args.clock, count=args.count,
                       interval_s=args.interval, seed=args.seed, mrn=args.mrn or "",
                       bed=args.bed or "", sending_app=args.app, on_answer=show)
    except OSError as exc:
        print(f"ketalog: error: cannot send to {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0
