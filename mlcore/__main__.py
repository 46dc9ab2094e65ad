"""`python -m mlcore ...`: see `mlcore.cli`."""

from __future__ import annotations

import sys

from mlcore.cli import main

if __name__ == "__main__":
    sys.exit(main())
