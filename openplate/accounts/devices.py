"""A browser and its system, read from a User-Agent header, for the list of signed-in browsers.

Only the common browsers and systems are told apart; anything else says plainly that it is not
known. The order of the checks matters: Edge, Opera and Samsung Internet also name Chrome and
Safari, Chrome names Safari, and every browser on iOS is WebKit underneath.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN_BROWSER = "Unknown browser"
UNKNOWN_SYSTEM = "unknown system"

#: (pattern, name), the first match wins.
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name) for pattern, name in (
        (r"\bEdg(?:e|A|iOS)?/(\d+)", "Edge"),
        (r"\b(?:OPR|OPT|Opera)/(\d+)", "Opera"),
        (r"\bSamsungBrowser/(\d+)", "Samsung Internet"),
        (r"\bVivaldi/(\d+)", "Vivaldi"),
        (r"\bYaBrowser/(\d+)", "Yandex Browser"),
        (r"\b(?:Firefox|FxiOS)/(\d+)", "Firefox"),
        (r"\bHeadlessChrome/(\d+)", "Chrome (headless)"),
        (r"\b(?:Chrome|CriOS)/(\d+)", "Chrome"),
        (r"\bChromium/(\d+)", "Chromium"),
        (r"\bVersion/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/", "Safari"),
        (r"\bMSIE (\d+)", "Internet Explorer"),
        (r"\bTrident/.*rv:(\d+)", "Internet Explorer"),
        (r"^curl/(\d+)", "curl"),
        (r"^Wget/(\d+)", "Wget"),
        (r"^python-httpx/(\d+)", "python-httpx"),
        (r"^python-requests/(\d+)", "python-requests"),
    )
)
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name) for pattern, name in (
        (r"\biPad\b", "iPad"),
        (r"\biPhone\b", "iPhone"),
        (r"\biPod\b", "iPod"),
        (r"\bAndroid\b", "Android"),
        (r"\bCrOS\b", "ChromeOS"),
        (r"\bWindows Phone\b", "Windows Phone"),
        (r"\bWindows\b", "Windows"),
        (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
        (r"\bLinux\b|\bX11\b", "Linux"),
    )
)
_ANDROID_VERSION = re.compile(r"\bAndroid (\d+)")


@dataclass(frozen=True, slots=True)
class Device:
    """What a User-Agent says: a browser (with its major version) and a system, if known."""

    browser: str | None
    version: str | None
    system: str | None

    @property
    def label(self) -> str:
        """In words: "Firefox 133 on Windows", "Unknown browser on Linux", "Unknown browser"."""
        browser = self.browser or UNKNOWN_BROWSER
        if self.browser and self.version:
            browser = f"{browser} {self.version}"
        return f"{browser} on {self.system or 'an ' + UNKNOWN_SYSTEM}"


def describe(user_agent: str | None) -> Device:
    """The browser and system ``user_agent`` names (None for what it does not say)."""
    agent = (user_agent or "").strip()
    browser = version = system = None
    for pattern, name in _BROWSERS:
        found = pattern.search(agent)
        if found:
            browser, version = name, found.group(1)
            break
    for pattern, name in _SYSTEMS:
        if pattern.search(agent):
            system = name
            break
    if system == "Android":
        android = _ANDROID_VERSION.search(agent)
        system = f"Android {android.group(1)}" if android else system
    if system in ("iPhone", "iPad", "iPod") and browser is None and "AppleWebKit" in agent:
        browser = "Safari"  # an in-app or home-screen browser: WebKit without a name
    return Device(browser, version, system)
