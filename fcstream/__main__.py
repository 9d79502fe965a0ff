"""``python -m fcstream``: the same command line as the ``fcstream`` console script."""

from ._cli import main

raise SystemExit(main())
