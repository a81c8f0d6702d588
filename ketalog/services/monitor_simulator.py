"""A stand-in patient monitor for trying the HL7 feed (`ketalog send-hl7`): slowly
drifting, plausible vitals (a seeded random walk), one ORU^R01 per interval over MLLP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ketalog.domain.clock import Clock
from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services.errors import service_boundary
from ketalog.services.mllp_client import MllpClient

START = {"sbp_mmhg": 128.0, "dbp_mmhg": 80.0, "hr_bpm": 74.0, "spo2_pct": 98.0,
         "rr_per_min": 14.0, "etco2_mmhg": 37.0}
# vital -> (lowest, highest, largest step per message)
WALK = {"sbp_mmhg": (95, 175, 3), "dbp_mmhg": (55, 100, 2), "hr_bpm": (55, 110, 2),
        "spo2_pct": (93, 100, 0.6), "rr_per_min": (10, 22, 0.8), "etco2_mmhg": (30, 45, 0.8)}


@dataclass(frozen=True)
class Answer:
    control_id: str
    ack_code: str
    text: str


def random_walk(seed: int) -> Iterator[dict[str, float]]:
    """Vitals per message; the diastolic stays at least 25 below the systolic."""
    rng = random.Random(seed)
    values = dict(START)
    while True:
        for name, (low, high, step) in WALK.items():
            values[name] = round(min(high, max(low, values[name] + rng.uniform(-step, step))))
        values["dbp_mmhg"] = min(values["dbp_mmhg"], values["sbp_mmhg"] - 25)
        yield dict(values)


@service_boundary
def send_simulated(host: str, port: int, clock: Clock, *, count: int, interval_s: float,
                   seed: int, mrn: str = "", bed: str = "", sending_app: str = "KETALOG_SIM",
                   on_answer: Callable[[Answer], None] = lambda _a: None,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Send `count` messages on one connection, reporting each ACK as it comes.
    Connection failures are the caller's to word (OSError)."""
    stamp = clock.now().strftime("%H%M%S")
    walk = random_walk(seed)
    with MllpClient(host, port) as client:
        for n in range(count):
            control = f"{sending_app[:8]}{stamp}-{n}"
            message = oru_message(control, next(walk), clock.now(), mrn=mrn, bed=bed,
                                  sending_app=sending_app)
            code, _, text = parse_ack(client.send(message))
            on_answer(Answer(control, code, text))
            if n + 1 < count:
                sleep(max(0.0, interval_s))
