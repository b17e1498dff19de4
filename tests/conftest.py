import os
import sys
from pathlib import Path

# The models are small: one BLAS thread per process is fastest, and with several test workers
# more threads only compete for the cores.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

sys.path.insert(0, str(Path(__file__).parent))
