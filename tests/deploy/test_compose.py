"""docker-compose.yml and its overrides: valid Compose, shaped as docs/deployment.md says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose_files import (
    BASE,
    CPU,
    REDIS_PRIVATE,
    REMOTE_WORKER,
    ROOT,
    WEBHOOK,
    MissingVariable,
    compose_config,
    env_file_values,
    load_yaml,
    named_volume_mounts,
)
from tests.deploy.conftest import REDIS_PASSWORD, REDIS_PUBLISH_ADDR

CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
COMBINATIONS = {
    "gpu server": (BASE,),
    "cpu server": (BASE, CPU),
    "redis for remote workers": (BASE, REDIS_PRIVATE),
    "webhook": (BASE, WEBHOOK),
    "remote gpu worker": (REMOTE_WORKER,),
    "remote cpu worker": (REMOTE_WORKER, CPU),
}


@pytest.fixture
def base(deploy_env: dict[str, str]) -> dict[str, Any]:
    return compose_config(deploy_env, BASE)


@pytest.fixture
def services(base: dict[str, Any]) -> dict[str, Any]:
    return base["services"]


@pytest.mark.parametrize("files", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_every_documented_combination_follows_the_compose_specification(
    deploy_env: dict[str, str], files: tuple[Path, ...]
) -> None:
    config = compose_config(deploy_env, *files)
    declared = set(config.get("volumes") or {})
    for name, service in config["services"].items():
        missing = set(named_volume_mounts(service).values()) - declared
        assert not missing, f"{name} mounts undeclared volumes {missing}"
        for path in ("context", "dockerfile"):
            if "build" in service and path in service["build"]:
                assert (ROOT / service["build"][path]).exists(), service["build"][path]


def test_compose_file_with_a_wrong_key_is_rejected(deploy_env: dict[str, str]) -> None:
    """The validator is strict enough to catch a typo, so the test above means something."""
    from tests.deploy.compose_files import validate_against_spec

    config = compose_config(deploy_env, BASE)
    config["services"]["worker"]["restartt"] = "always"
    with pytest.raises(ValueError, match="restartt"):
        validate_against_spec(config)


def test_stack_is_redis_bot_and_worker(services: dict[str, Any]) -> None:
    assert set(services) == {"redis", "bot", "worker"}


def test_compose_refuses_to_start_without_a_redis_password() -> None:
    with pytest.raises(MissingVariable) as missing:
        load_yaml(BASE, env_file_values())  # .env.example as shipped: REDIS_PASSWORD is blank
    assert missing.value.name == "REDIS_PASSWORD"


def test_redis_appends_to_a_named_volume(base: dict[str, Any]) -> None:
    redis = base["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--dir /data" in command
    assert named_volume_mounts(redis).get("/data") in base["volumes"]


def test_redis_password_stays_off_command_lines(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert REDIS_PASSWORD not in json.dumps(redis["command"])
    assert REDIS_PASSWORD not in json.dumps(redis["healthcheck"])
    assert redis["environment"]["REDIS_PASSWORD"] == REDIS_PASSWORD
    assert "requirepass" in " ".join(redis["command"])


def test_redis_healthcheck_authenticates_and_pings(services: dict[str, Any]) -> None:
    check = services["redis"]["healthcheck"]
    command = " ".join(check["test"])
    assert "REDISCLI_AUTH=" in command and "redis-cli ping" in command
    assert check["test"][0] == "CMD-SHELL"


@pytest.mark.parametrize("files", [(BASE,), (BASE, CPU), (BASE, WEBHOOK)])
def test_redis_is_not_reachable_from_outside_the_host(
    deploy_env: dict[str, str], files: tuple[Path, ...]
) -> None:
    config = compose_config(deploy_env, *files)
    redis = config["services"]["redis"]
    assert "ports" not in redis
    assert redis.get("network_mode") != "host"
    for name, service in config["services"].items():
        assert service.get("network_mode") != "host", name


def test_private_redis_is_published_on_one_chosen_address(deploy_env: dict[str, str]) -> None:
    ports = compose_config(deploy_env, BASE, REDIS_PRIVATE)["services"]["redis"]["ports"]
    assert ports == [f"{REDIS_PUBLISH_ADDR}:6379:6379"]
    without_address = {k: v for k, v in deploy_env.items() if k != "REDIS_PUBLISH_ADDR"}
    with pytest.raises(MissingVariable):
        compose_config(without_address, BASE, REDIS_PRIVATE)


def test_webhook_port_is_published_on_loopback_only(deploy_env: dict[str, str]) -> None:
    ports = compose_config(deploy_env, BASE, WEBHOOK)["services"]["bot"]["ports"]
    port = deploy_env["WEBHOOK_PORT"]
    assert ports == [f"127.0.0.1:{port}:{port}"]


def test_services_use_redis_with_the_password(services: dict[str, Any]) -> None:
    for name in ("bot", "worker"):
        url = services[name]["environment"]["REDIS_URL"]
        assert url == f"redis://:{REDIS_PASSWORD}@redis:6379/0", name


def test_bot_and_worker_wait_for_a_healthy_redis(services: dict[str, Any]) -> None:
    for name in ("bot", "worker"):
        assert services[name]["depends_on"] == {"redis": {"condition": "service_healthy"}}


def test_bot_and_worker_read_the_env_file(services: dict[str, Any]) -> None:
    for name in ("bot", "worker"):
        assert services[name]["env_file"] in (".env", [".env"]), name


def test_worker_reserves_an_nvidia_gpu(services: dict[str, Any]) -> None:
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert services["worker"]["environment"]["DEVICE"] == "cuda"
    assert services["worker"]["build"]["args"]["TORCH_INDEX_URL"] == ""


def test_cpu_override_drops_the_gpu_and_builds_cpu_torch(deploy_env: dict[str, str]) -> None:
    gpu = compose_config(deploy_env, BASE)["services"]["worker"]
    cpu = compose_config(deploy_env, BASE, CPU)["services"]["worker"]
    assert "devices" not in cpu.get("deploy", {}).get("resources", {}).get("reservations", {})
    assert cpu["build"]["args"]["TORCH_INDEX_URL"] == CPU_TORCH_INDEX
    assert cpu["environment"]["DEVICE"] == "cpu"
    assert cpu["image"] != gpu["image"]
    # Everything else is the GPU worker's.
    for key in ("command", "volumes", "user", "healthcheck", "depends_on", "restart"):
        assert cpu[key] == gpu[key], key


def test_every_service_restarts_unless_stopped_and_rotates_logs(deploy_env: dict[str, str]) -> None:
    for files in COMBINATIONS.values():
        for name, service in compose_config(deploy_env, *files)["services"].items():
            assert service["restart"] == "unless-stopped", name
            logging = service["logging"]
            assert logging["driver"] == "json-file", name
            assert logging["options"]["max-size"] and int(logging["options"]["max-file"]) > 1


def test_every_service_runs_as_a_non_root_user(deploy_env: dict[str, str]) -> None:
    for files in COMBINATIONS.values():
        for name, service in compose_config(deploy_env, *files)["services"].items():
            user = str(service.get("user", ""))
            assert user, f"{name} has no user"
            assert user.split(":")[0] not in ("root", "0"), name
            assert "no-new-privileges:true" in service["security_opt"], name
            assert service["cap_drop"] == ["ALL"], name


def test_healthchecks_call_the_health_subcommands(services: dict[str, Any]) -> None:
    assert services["bot"]["healthcheck"]["test"] == ["CMD", "python", "-m", "bot", "health"]
    # A worker container is healthy on its own heartbeat, not on a scaled-out neighbour's.
    assert services["worker"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "worker",
        "health",
        "--this-host",
    ]
    for name in ("bot", "worker"):
        assert services[name]["command"][:3] == ["python", "-m", name]


def test_a_stopping_worker_hands_its_job_back_before_docker_kills_it(
    services: dict[str, Any],
) -> None:
    worker = services["worker"]
    command = worker["command"]
    release_after = float(command[command.index("--release-after") + 1])
    grace = worker["stop_grace_period"]
    grace_seconds = int(grace[:-1]) * {"s": 1, "m": 60}[grace[-1]]
    assert release_after + 10 <= grace_seconds  # room to hand back and withdraw the heartbeat


def test_workers_share_one_weights_volume_and_can_scale(base: dict[str, Any]) -> None:
    worker = base["services"]["worker"]
    weights_dir = worker["environment"]["SV2TTS_WEIGHTS_DIR"]
    volume = named_volume_mounts(worker).get(weights_dir)
    assert volume in base["volumes"], "the weights directory is not a named volume"
    # --scale worker=N needs no fixed name and no host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    # The bot never loads models.
    assert volume not in named_volume_mounts(base["services"]["bot"]).values()


def test_bot_keeps_its_data_on_a_named_volume(base: dict[str, Any]) -> None:
    bot = base["services"]["bot"]
    assert named_volume_mounts(bot).get(bot["environment"]["DATA_DIR"]) in base["volumes"]


def test_images_are_built_from_the_project_dockerfiles(services: dict[str, Any]) -> None:
    assert services["bot"]["build"] == {"context": ".", "dockerfile": "docker/bot.Dockerfile"}
    assert services["worker"]["build"]["dockerfile"] == "docker/worker.Dockerfile"
    assert ":" in services["redis"]["image"] and not services["redis"]["image"].endswith(":latest")


def test_remote_worker_is_the_main_worker_pointed_at_another_redis(
    deploy_env: dict[str, str], services: dict[str, Any]
) -> None:
    remote = compose_config(deploy_env, REMOTE_WORKER)
    assert set(remote["services"]) == {"worker"}
    worker = remote["services"]["worker"]
    same = ("build", "image", "command", "user", "init", "volumes", "deploy", "healthcheck")
    for key in (*same, "restart", "stop_grace_period", "logging", "env_file"):
        assert worker[key] == services["worker"][key], key
    assert worker["environment"]["REDIS_URL"] == deploy_env["REDIS_URL"]
    assert "depends_on" not in worker
    without_url = {k: v for k, v in deploy_env.items() if k != "REDIS_URL"}
    with pytest.raises(MissingVariable):
        compose_config(without_url, REMOTE_WORKER)
