"""Dry-run estimates (pure) and the shipped CI example and Dockerfile."""

from pathlib import Path

import yaml

from swcompany.estimate import Prices, estimate_run

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"pm": "m", "architect": "m", "engineer": "m", "qa": "m"}


def test_estimate_ranges_are_ordered_and_priced():
    stages = estimate_run(500, MODELS, {"m": Prices(1e-6, 2e-6)}, fix_rounds=3)
    assert [s.stage for s in stages] == ["pm", "architect", "engineer", "qa", "fix"]
    for s in stages:
        assert s.tokens[0] <= s.tokens[1] and s.cost[0] <= s.cost[1]
    assert stages[0].tokens[0] >= 500  # the PM prompt is counted exactly


def test_estimate_without_tests_or_prices():
    stages = estimate_run(500, MODELS, {}, run_tests=False)
    assert [s.stage for s in stages] == ["pm", "architect", "engineer"]
    assert all(s.cost is None for s in stages)


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
