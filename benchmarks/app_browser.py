"""The app driven as a user drives it, in a headless Chromium through Playwright: pick items the
user liked, optionally type what they want now, recommend, reject the first recommendation,
optionally keep a screenshot. The slow browser tests and ``recipes/app_screenshot.py`` (the
README's picture) run it.

>>> rows = try_in_browser("http://127.0.0.1:7860", ["Star Wars (1977)"], "/usr/bin/chromium")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from instructrec_peft.errors import MissingDependencyError

__all__ = ["try_in_browser"]


def try_in_browser(url: str, liked: Sequence[str], chromium: str, *, k: int, intention: str = "", reject: bool = True,
                   screenshot: str | Path | None = None, timeout_ms: int = 120_000) -> list[str]:
    """The recommended rows' texts as the page shows them (then the first one rejected, unless
    ``reject`` is false)."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        raise MissingDependencyError("the browser run needs playwright: pip install 'instructrec-peft[app]'") from None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(url)
            box = page.locator("#liked input")
            for title in liked:
                box.click()
                box.fill(title)
                page.get_by_role("option", name=title, exact=True).click()
            if intention:
                page.locator("#intention textarea").fill(intention)
            page.locator("#recommend").click()
            rows = page.locator("#results [role=row]")  # the header, then one row per item
            expect(rows).to_have_count(k + 1, timeout=timeout_ms)
            shown = rows.all_inner_texts()[1:]
            if reject:
                page.locator("#reject").click()
                page.locator("#status").get_by_text("Recorded: rejected").wait_for(timeout=timeout_ms)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
            return shown
        finally:
            browser.close()
