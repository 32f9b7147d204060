"""Start the orders system as a long-lived actor system, and leave it running.

python -m scripts.start_system [DATA_DIR]     # then: python -m scripts.stop_system
"""

import sys

from thespsys.control import start_system

data_dir = sys.argv[1] if len(sys.argv) > 1 else "var/orders"
system = start_system("examples.orders:system", data_dir, pipelines=2)
print(f"running: process {system.pid}, admin port {system.admin_port}")
