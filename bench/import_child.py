"""One import-cost sample, run as `python -m bench.import_child CASE WORK PACKAGE CLASS`.

Imports only the standard library before its clock starts, so the figure is the import
itself. Prints `BENCH_RESULT {"import_s": ..., "peak_rss_kb": ...}` (see bench/measure.py).
"""

import importlib
import json
import sys
import time

from bench.sample_row import SAMPLE_ROW


def main() -> None:
    case, work, package, class_name = sys.argv[1:5]
    sys.path.insert(0, work)
    start = time.perf_counter()
    if case == "floor":
        from bench.floor_model import Tbl0000

        Tbl0000.model_validate(SAMPLE_ROW)
    elif case == "one model":
        model = getattr(importlib.import_module(package), class_name)
        model.model_validate(SAMPLE_ROW)
    else:
        module = importlib.import_module(package)
        models = [getattr(module, name) for name in module.__all__]
        if len(models) < 2:
            raise SystemExit(f"{package} exports {len(models)} names")
    elapsed = time.perf_counter() - start
    with open("/proc/self/status", encoding="ascii") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print("BENCH_RESULT " + json.dumps({"import_s": elapsed, "peak_rss_kb": peak_kb}), flush=True)


if __name__ == "__main__":
    main()
