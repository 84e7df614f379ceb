"""A screenshot of a playback page once its call shows a path: run inside the receiver's
network namespace by ``bench network --screenshot`` (``python -m mirage_stream.bench.page_shot
URL OUT.png``), so the page reaches the receiver the way a viewer beside it would."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from mirage_stream.bench.browser import launch

WAIT_S = 30.0  # for the call's path to appear in the page's table


async def shoot(url: str, out: Path, wait_s: float = WAIT_S) -> bool:
    """True when the page showed the call's path before the picture was taken."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright, None)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 900})
            await page.goto(url)
            shown = True
            try:
                await page.wait_for_function(
                    "() => [...document.querySelectorAll('#stats tr')].some((row) =>"
                    ' row.cells[0].textContent.startsWith("call\'s path") &&'
                    " row.cells[1].textContent !== '-')",
                    timeout=wait_s * 1000,
                )
                await page.wait_for_timeout(2500)  # a few frames of video and a stats refresh
            except Exception:  # playwright's TimeoutError: shoot what is there
                shown = False
            out.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(out), full_page=True)
            return shown
        finally:
            await browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    return 0 if asyncio.run(shoot(args.url, args.out)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
