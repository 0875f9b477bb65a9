"""Dry-run estimates (pure) and the shipped CI example and Dockerfile."""

from pathlib import Path

import yaml

from swcompany.config import Settings
from swcompany.estimate import Prices, estimate_run
from swcompany.stages.registry import company_stages

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"pm": "m", "architect": "m", "engineer": "m", "review": "m", "qa": "m"}


def test_estimate_ranges_are_ordered_and_priced():
    settings = Settings(fix_rounds=3, review=True)
    rows = estimate_run(company_stages(settings), settings, MODELS, {"m": Prices(1e-6, 2e-6)},
                        first_stage="pm", first_prompt_tokens=500)
    assert [(s.stage, s.label) for s in rows] == [("pm", "PRD"), ("architect", "design"), ("engineer", "source files"),
                                                  ("review", "review"), ("qa", "test files"), ("qa", "fix rounds"),
                                                  ("qa", "hand checks"), ("qa", "run command"),
                                                  ("qa", "run command samples")]
    for s in rows:
        assert s.tokens[0] <= s.tokens[1] and s.cost[0] <= s.cost[1]
    assert rows[0].tokens[0] >= 500  # the first prompt is counted exactly


def test_estimate_without_tests_or_prices():
    settings = Settings(run_tests=False)
    rows = estimate_run(company_stages(settings), settings, MODELS, {})
    assert [s.stage for s in rows] == ["pm", "architect", "engineer"]
    assert all(s.cost is None for s in rows)


def test_ci_example_is_valid_yaml_and_uses_json_and_exit_codes():
    workflow = yaml.safe_load((ROOT / "examples/github-actions-scaffold.yml").read_text())
    steps = workflow["jobs"]["scaffold"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    assert "--json" in script and "--idea-file -" in script and "--budget" in script


def test_dockerfile_runs_as_non_root_and_copies_what_exists():
    text = (ROOT / "Dockerfile").read_text()
    assert "USER swcompany" in text and 'ENTRYPOINT ["swcompany"]' in text
    for line in text.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
