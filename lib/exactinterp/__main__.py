"""``python -m exactinterp``: see :mod:`exactinterp.cli`."""

import sys

from .cli import main

sys.exit(main())
