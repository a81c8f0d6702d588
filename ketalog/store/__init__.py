"""The store layer: the only place with SQL.

sqlite-utils imports numpy, when it is installed, only to map numpy's scalar types to
columns; ketalog never stores numpy values (every value passes the domain's checks as a
Python int, float or str first). numpy costs about a tenth of a second of start-up,
before any chart needs it (pyqtgraph loads it with the first chart), so sqlite-utils is
imported here, before any store module, with numpy hidden from it."""

import sys
from typing import Any, cast

if "sqlite_utils" not in sys.modules and "numpy" not in sys.modules:
    cast(dict[str, Any], sys.modules)["numpy"] = None  # `import numpy` -> ImportError
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        del sys.modules["numpy"]
