"""Stage 8, experiments: the machinery of the reports that nothing else imports: measured child
runs, throughput and MFU, scoring speed, plots, transfer, cold start, template selection.

May import: every stage. Recipes (``recipes/``) sit above it.
"""
