"""More demo cases, one module per area: each module's `seed(rng) -> dict[str, int]` runs after the
main demo cases (roster loaded, `bpmn/` deployed) inside the demo command's transaction, and returns
how many cases of which kind it created. A seeder skips a process that is not deployed."""

from __future__ import annotations

import importlib
import pkgutil
import random


def seed_all(rng: random.Random) -> dict[str, int]:
    created: dict[str, int] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        seed = getattr(module, "seed", None)
        if callable(seed):
            created.update(seed(rng))
    return created
