"""The four roles, in pipeline order. Each module exposes NAME, TITLE and run(ctx)."""

from . import architect, engineer, pm, qa

STAGES = [pm, architect, engineer, qa]
STAGE_NAMES = [s.NAME for s in STAGES]
