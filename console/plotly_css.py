"""plotly.js's own style rules, as a stylesheet: static/console/css/plotly.css.

plotly.js adds its rules (modebar, hover labels, notifier...) by injecting a <style> element, which
the Content-Security-Policy refuses. Since plotly.js 3 it skips that when the page already has an
element with the id ``plotly.js-style-global`` and the class ``no-inline-styles``: our <link> to this
stylesheet (templates/console/partials/plotly.html). The rules are read from the bundle the plotly
package ships, so `python -m console.plotly_css` rewrites the file after a plotly upgrade (a test
says when it is due).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from console.staticfinders import PLOTLY_JS

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "console" / "css" / "plotly.css"
# build/plotcss.js in plotly.js: {"X .modebar": "position:absolute;...", ...} with X and Y below
_RULES_OBJECT = re.compile(r'=\{("X,X div":.*?)\};for\(\w+ in \w+\)')
# a key is quoted ("X .modebar") or bare (Y); a value is "..." or '...' (holding double quotes)
_RULE = re.compile(r'(?:^|,)(?:"([^"]+)"|(\w+)):(?:"([^"]*)"|\'([^\']*)\')')
_PLOT = ".js-plotly-plot .plotly"
_NOTIFIER = ".plotly-notifier"


def bundle_version(bundle: str) -> str:
    found = re.search(r"plotly\.js v([0-9][^\s*]*)", bundle[:500])
    return found.group(1) if found else "unknown"


def stylesheet_from_bundle(bundle: str) -> str:
    found = _RULES_OBJECT.search(bundle)
    if not found:
        raise ValueError("plotly.js's style rules were not found in the bundle")
    rules = []
    for quoted_key, bare_key, double_quoted, single_quoted in _RULE.findall(found.group(1)):
        selector = re.sub(r"^,", " ,", quoted_key or bare_key)
        selector = selector.replace("X", _PLOT).replace("Y", _NOTIFIER)
        rules.append(f"{selector}{{{double_quoted or single_quoted}}}")
    # plotly.js inserts each rule at the top of its sheet: last first is the order it cascades in
    header = (
        f"/* plotly.js v{bundle_version(bundle)}'s style rules, written by console/plotly_css.py:"
        " the Content-Security-Policy refuses the <style> plotly.js would inject. */"
    )
    return "\n".join([header, *reversed(rules)]) + "\n"


def expected_stylesheet() -> str:
    return stylesheet_from_bundle(PLOTLY_JS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    STYLESHEET.write_text(expected_stylesheet(), encoding="utf-8")
    sys.stdout.write(f"wrote {STYLESHEET}\n")
