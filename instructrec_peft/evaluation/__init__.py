"""Stage 5, evaluation: metric formulas and ``evaluate`` modules, ranking evaluation of example
rows, the non-LM baselines (popularity, BPR-MF, SASRec), the named protocols and the per-template
breakdown.

May import: ``inference`` and every stage below it.
"""
