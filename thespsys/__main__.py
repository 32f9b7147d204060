"""``python -m thespsys``: the ``thespsys`` command."""

import sys

from thespsys.cli import main

sys.exit(main())
