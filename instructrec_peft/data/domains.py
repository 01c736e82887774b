"""Catalogue domains: the part of a log whose items fall in a set of categories.

InstructRec checked transfer across Amazon domains (tuned on one, evaluated on another). With
one catalogue the same check splits its categories: :func:`restrict_to_categories` keeps the
items *all* of whose categories are in the domain (an item in both domains belongs to neither,
so no item is shared) and the interactions with them; users keep whatever part of their history
falls in the domain, so one user can appear in both. ``DataArguments.item_categories`` applies it
when a log is loaded, so tuning and evaluation take a domain by configuration.

>>> action = restrict_to_categories(log, ML100K_DOMAINS["action"])          # doctest: +SKIP
>>> len(action.catalog), len(action.interactions)                          # doctest: +SKIP
(359, 25644)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ..errors import DataError
from .interactions import InteractionLog

__all__ = ["ML100K_DOMAINS", "restrict_to_categories"]

# Two disjoint halves of ML-100K's 18 genres: about 360 items / 26k interactions whose genres are
# all "action" ones, 970 / 44k all "drama" ones; the ~350 mixed items belong to neither.
ML100K_DOMAINS = {
    "action": ("Action", "Adventure", "Sci-Fi", "Thriller", "Crime", "War", "Western", "Horror", "Mystery",
               "Film-Noir", "Fantasy"),
    "drama": ("Comedy", "Drama", "Romance", "Children's", "Animation", "Musical", "Documentary"),
}


def restrict_to_categories(log: InteractionLog, categories: Sequence[str]) -> InteractionLog:
    """The log of the items whose categories are all in ``categories`` (items without any are
    left out). Unknown category names and an empty result raise ``DataError``."""
    catalog = log.catalog
    if catalog is None or catalog.category_field is None:
        raise DataError(f"{log.name}: item_categories needs a catalogue with a category field")
    wanted = set(categories)
    if not wanted:
        raise DataError(f"{log.name}: item_categories is empty; name the categories of the domain")
    known = {label for item in catalog.texts for label in catalog.categories(item)}
    unknown = sorted(wanted - known)
    if unknown:
        raise DataError(f"{log.name}: unknown item categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                        f"the catalogue has {sorted(known)}")
    items = [item for item in catalog.texts if catalog.categories(item) and set(catalog.categories(item)) <= wanted]
    interactions = log.interactions[log.interactions["item_id"].isin(set(items))].reset_index(drop=True)
    if interactions.empty:
        raise DataError(f"{log.name}: no interactions with items whose categories are all in {sorted(wanted)}")
    domain_catalog = replace(catalog, frame=catalog.frame.loc[items])
    report = replace(log.report, outside_domain=log.report.outside_domain + len(log.interactions) - len(interactions),
                     rows_out=len(interactions), users=interactions["user_id"].nunique(),
                     items=interactions["item_id"].nunique())
    return InteractionLog(interactions, domain_catalog, report, name=log.name)
