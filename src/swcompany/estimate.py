"""Dry-run estimates: a token and cost range for a whole run, before paying anything.

The ranges are rules of thumb per stage (documented in the README), scaled by the number of
files a small project usually has; the pure function is separate from the price lookup so
it is testable without litellm.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

# (prompt_low, prompt_high, completion_low, completion_high) per call, and calls per run.
_PER_CALL = {
    "architect": (1_500, 3_500, 1_000, 4_000),
    "engineer": (1_000, 4_000, 400, 3_000),
    "qa": (1_500, 5_000, 400, 2_000),
    "fix": (3_000, 15_000, 1_000, 5_000),
}
FILES_LOW, FILES_HIGH = 3, 15


@dataclass(frozen=True)
class Prices:
    """USD per token; None when the model's price is unknown."""

    input: float | None
    output: float | None

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None


class StageEstimate(BaseModel):
    stage: str
    model: str
    calls: tuple[int, int]
    tokens: tuple[int, int]
    cost: tuple[float, float] | None


def estimate_run(pm_prompt_tokens: int, models: dict[str, str], prices: dict[str, Prices], *,
                 run_tests: bool = True, fix_rounds: int = 3) -> list[StageEstimate]:
    """Low/high calls, tokens and cost per stage; cost is None for unknown prices."""
    plan = {
        "pm": ((1, 1), (pm_prompt_tokens, pm_prompt_tokens, 600, 2_000)),
        "architect": ((1, 2), _PER_CALL["architect"]),
        "engineer": ((FILES_LOW, FILES_HIGH * 2), _PER_CALL["engineer"]),
    }
    if run_tests:
        plan["qa"] = ((FILES_LOW - 1, FILES_HIGH), _PER_CALL["qa"])
        plan["fix"] = ((0, fix_rounds), _PER_CALL["fix"])
    out = []
    for stage, ((calls_lo, calls_hi), (p_lo, p_hi, c_lo, c_hi)) in plan.items():
        model = models.get("qa" if stage == "fix" else stage, "")
        price = prices.get(model, Prices(None, None))
        lo_in, hi_in, lo_out, hi_out = calls_lo * p_lo, calls_hi * p_hi, calls_lo * c_lo, calls_hi * c_hi
        cost = ((lo_in * price.input + lo_out * price.output, hi_in * price.input + hi_out * price.output)
                if price.known else None)
        out.append(StageEstimate(stage=stage, model=model, calls=(calls_lo, calls_hi),
                                 tokens=(lo_in + lo_out, hi_in + hi_out), cost=cost))
    return out


def lookup_prices(settings, models: list[str]) -> dict[str, Prices]:
    """Configured prices win; otherwise litellm's bundled table; otherwise unknown."""
    if settings.input_cost_per_token is not None or settings.output_cost_per_token is not None:
        p = Prices(settings.input_cost_per_token or 0.0, settings.output_cost_per_token or 0.0)
        return {m: p for m in models}
    from .llm import load_litellm

    litellm = load_litellm()
    found: dict[str, Prices] = {}
    for model in models:
        try:
            inp, out = litellm.cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
            found[model] = Prices(float(inp), float(out))
        except Exception:  # noqa: BLE001 - unknown model
            found[model] = Prices(None, None)
    return found


def count_tokens(model: str, messages: list[dict[str, str]]) -> int:
    from .llm import load_litellm

    try:
        return int(load_litellm().token_counter(model=model, messages=messages))
    except Exception:  # noqa: BLE001
        return sum(len(m["content"]) for m in messages) // 4
