"""python -m ketalog"""

from ketalog.cli import main

raise SystemExit(main())
