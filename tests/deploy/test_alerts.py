"""docker/alerts.yml and docker/prometheus.yml (issue 21): the alerts name only metrics the bot
exports, and docs/deployment.md shows the files as shipped."""

from __future__ import annotations

import re

import yaml

from bot.background.metrics import ServiceMetrics
from tests.deploy.compose_files import ROOT

ALERTS = ROOT / "docker" / "alerts.yml"
SCRAPE = ROOT / "docker" / "prometheus.yml"
DOC = ROOT / "docs" / "deployment.md"


def exported_names() -> set[str]:
    names = set()
    for family in ServiceMetrics().registry.collect():
        names |= {sample.name for sample in family.samples} | {family.name}
        if family.type == "counter":  # a labelled counter has no samples before its first count
            names.add(f"{family.name}_total")
    return names


def test_the_three_alerts_name_only_exported_metrics() -> None:
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "VoicecloneQueueGrowing",
        "VoicecloneNoWorker",
        "VoicecloneFailuresRising",
    ]
    named = {m for rule in rules for m in re.findall(r"voiceclone_\w+", rule["expr"])}
    assert named and named <= exported_names(), named - exported_names()


def test_prometheus_scrapes_the_bot_where_compose_puts_it() -> None:
    config = yaml.safe_load(SCRAPE.read_text())
    [job] = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["bot:9464"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["bot"]["environment"]["METRICS_PORT"] == "9464"


def test_the_guide_shows_the_files_as_shipped() -> None:
    guide = DOC.read_text(encoding="utf-8")
    for path in (ALERTS, SCRAPE):
        body = path.read_text().split("\n", 1)[1]  # without the comment line
        assert body in guide, f"{path.name} differs from docs/deployment.md"
