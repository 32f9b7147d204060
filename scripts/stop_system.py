"""Close the long-lived system that ``scripts.start_system`` started.

python -m scripts.stop_system [DATA_DIR]
"""

import sys

from thespsys.control import attach

data_dir = sys.argv[1] if len(sys.argv) > 1 else "var/orders"
attach(data_dir).close()
print("stopped")
