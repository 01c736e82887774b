"""The machinery of the reports in ``reports/``: measured child runs, throughput and MFU, scoring
speed, plots, transfer, the benchmark, the instruction and instruction-following reports.

It lives beside the package, not in it: the wheel holds the library only, and nothing in
``instructrec_peft`` imports this. It may import every stage of the library; the scripts in
``recipes/`` that write the reports put the checkout on ``sys.path`` to import it.
"""
