"""Dry-run estimates: a token and cost range for a whole run, before paying anything.

The ranges are rules of thumb each stage gives about itself (``Stage.estimate``, documented in
the README), scaled by the design's file ceiling; the pure function is separate from the price
lookup so it is testable without litellm.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel


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
    label: str = ""


def estimate_run(stages: list, settings, models: dict[str, str], prices: dict[str, "Prices"], *,
                 first_stage: str = "", first_prompt_tokens: int = 0) -> list[StageEstimate]:
    """Low/high calls, tokens and cost per kind of call of each stage (``Stage.estimate``);
    the first stage's prompt is counted exactly. Cost is None for unknown prices."""
    out = []
    for stage in stages:
        model = models.get(stage.name, "")
        price = prices.get(model, Prices(None, None))
        for index, plan in enumerate(stage.estimate(settings)):
            (calls_lo, calls_hi), (p_lo, p_hi), (c_lo, c_hi) = plan.calls, plan.prompt_tokens, plan.completion_tokens
            if stage.name == first_stage and first_prompt_tokens and index == 0:
                p_lo = p_hi = first_prompt_tokens
            lo_in, hi_in, lo_out, hi_out = calls_lo * p_lo, calls_hi * p_hi, calls_lo * c_lo, calls_hi * c_hi
            cost = ((lo_in * price.input + lo_out * price.output, hi_in * price.input + hi_out * price.output)
                    if price.known else None)
            out.append(StageEstimate(stage=stage.name, model=model, calls=(calls_lo, calls_hi),
                                     tokens=(lo_in + lo_out, hi_in + hi_out), cost=cost, label=plan.label))
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
