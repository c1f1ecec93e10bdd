"""Add English translations to the catalogue and recompile it, safely when several people do so at once.

    python -m service.webui.i18n_add '中文' 'English' ['中文2' 'English2' ...]
    python -m service.webui.i18n_add --file pairs.json      # {"中文": "English", ...}

Existing entries are updated, new ones appended; messages.mo is rewritten from messages.po.
"""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations" / "en" / "LC_MESSAGES"


def add_translations(pairs: dict[str, str], directory: Path = CATALOG_DIR) -> int:
    po_path = directory / "messages.po"
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale="en")
        for source, english in pairs.items():
            if source in catalog:
                catalog[source].string = english
            else:
                catalog.add(source, english)
        with po_path.open("wb") as handle:
            write_po(handle, catalog, width=0, sort_output=False, omit_header=False)
        with (directory / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)
    return len(pairs)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--file"]:
        pairs = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    else:
        if len(argv) % 2:
            print(__doc__, file=sys.stderr)
            return 2
        pairs = dict(zip(argv[0::2], argv[1::2], strict=True))
    print(f"{add_translations(pairs)} translations written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
