"""The product hashes passwords and seals signing keys at full argon2id cost. The suite
lowers the cost in its own process (tests/conftest.py), so this is checked in a fresh
interpreter that never imported the test configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from argon2 import PasswordHasher, extract_parameters
from ketalog.domain import signing
from ketalog.services import auth
params = extract_parameters(auth.hash_password("a password"))
sealed = json.loads(signing.new_sealed_key("u", "a password").sealed_json)
print(json.dumps({"hash": [params.time_cost, params.memory_cost, params.parallelism],
                  "default": [PasswordHasher().time_cost, PasswordHasher().memory_cost],
                  "kdf": sealed["kdf"]}))
"""


def test_the_product_uses_full_cost_argon2id():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    found = json.loads(out.stdout)
    assert found["hash"][:2] == found["default"]  # argon2-cffi's recommended profile
    assert found["hash"][1] >= 65536  # KiB: RFC 9106's low-memory profile at least
    assert found["kdf"] == {"name": "argon2id", "time_cost": 3, "memory_cost_kib": 65536,
                            "parallelism": 4}


def test_the_suite_runs_at_low_cost():
    """The other half: the patch is in effect here, or the suite is slow for nothing."""
    from ketalog.domain import signing

    assert signing.KDF["memory_cost_kib"] == 64
