from __future__ import annotations

from salon.cli import main

main()
