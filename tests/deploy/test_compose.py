"""docker-compose.yml, the Dockerfile and .dockerignore, checked against the code they deploy.

Nobody can ``docker compose up`` inside the test suite (there may be no Docker
engine at all), so the deployment files are read as data and held to what
the code expects: every ``GUARD_*`` variable must be one the guard reads and
must parse, the topic job and the worker must agree on topic names, Kafka's
listeners must be mutually consistent, nothing may listen beyond loopback on
the host, and key material must come from compose secrets that never reach
git or the image build context. A typo in any of these would otherwise only
show when a user starts the stack, or, worse, not at all.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from guard.codec.schemas import SCHEMA_DIR_ENV
from guard.config.settings import SETTINGS, load_config

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
SECRETS_DIR = REPO / "deploy" / "secrets"

SETTING_DEFAULTS = {setting.env: setting.default for setting in SETTINGS}
TOPIC_VARIABLES = (
    "GUARD_CUSTODY_TOPIC",
    "GUARD_REGISTRY_TOPIC",
    "GUARD_PUBLIC_TOPIC",
    "GUARD_AUDIT_TOPIC",
    "GUARD_DEADLETTER_TOPIC",
)
GUARD_IMAGE_SERVICES = ("topics", "guard", "canary")
LOOPBACK = "127.0.0.1"
SECRETS_MOUNT = "/run/secrets/"


# --- reading the files ------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    if not isinstance(data, dict):
        raise TypeError("docker-compose.yml is not a mapping")
    return data


def service(name: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = load_compose()["services"]
    return services[name]


def service_environment(name: str) -> dict[str, str]:
    """A service's ``environment`` as text, whichever of compose's two forms it uses."""
    raw = service(name).get("environment", {})
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        return {key: value for key, value in pairs}
    return {key: str(value) for key, value in raw.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the image that is shipped: everything after the last FROM."""
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from + 1 :]


def image_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            for token in shlex.split(arguments):
                key, separator, value = token.partition("=")
                assert separator, f"ENV {key}: use the KEY=VALUE form"
                env[key] = value
    return env


def only(keyword: str) -> str:
    """The arguments of the final stage's last ``keyword`` instruction (the one that counts)."""
    found = [arguments for kw, arguments in final_stage() if kw == keyword]
    assert found, f"the final Dockerfile stage has no {keyword}"
    return found[-1]


def effective_environment(name: str) -> dict[str, str]:
    """What the process in a guard-image service sees: image ENV, overridden by compose."""
    return {**image_environment(), **service_environment(name)}


def effective_setting(name: str, variable: str) -> str:
    return effective_environment(name).get(variable, SETTING_DEFAULTS[variable])


def published_ports(name: str) -> list[tuple[str, int, int]]:
    """``(host_ip, host_port, container_port)`` for each published port; no IP means ''."""
    ports: list[tuple[str, int, int]] = []
    for entry in service(name).get("ports", []):
        if isinstance(entry, dict):
            ports.append((entry.get("host_ip", ""), int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).rsplit(":", 2)
        assert len(parts) in (2, 3), f"{name}: port {entry!r} names no host port"
        host_ip = parts[0] if len(parts) == 3 else ""
        ports.append((host_ip, int(parts[-2]), int(parts[-1].split("/")[0])))
    return ports


def kafka_listeners(variable: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` as ``{NAME: (host, port)}``."""
    listeners: dict[str, tuple[str, int]] = {}
    for item in service_environment("kafka")[variable].split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        listeners[name] = (host, int(port))
    return listeners


def protocol_map() -> dict[str, str]:
    pairs = service_environment("kafka")["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    return dict(pair.strip().split(":", 1) for pair in pairs)


# --- the compose file --------------------------------------------------------


def test_every_guard_variable_in_compose_is_a_setting() -> None:
    known = set(SETTING_DEFAULTS)
    for name, definition in load_compose()["services"].items():
        for variable in service_environment(name):
            if variable.startswith("GUARD_"):
                assert variable in known, f"{name}: {variable} is not a guard setting"
        assert "GUARD_" not in json.dumps(definition.get("command", [])), name


def test_guard_services_configuration_loads() -> None:
    """Each guard-image service's environment passes the guard's own validation."""
    for name in GUARD_IMAGE_SERVICES:
        config = load_config(effective_environment(name))
        assert config.brokers == effective_setting(name, "GUARD_BROKERS")


def test_topic_job_and_worker_agree_on_default_topics_and_broker() -> None:
    for variable in TOPIC_VARIABLES:
        values = {name: effective_setting(name, variable) for name in GUARD_IMAGE_SERVICES}
        assert set(values.values()) == {SETTING_DEFAULTS[variable]}, (variable, values)
    brokers = {name: effective_setting(name, "GUARD_BROKERS") for name in GUARD_IMAGE_SERVICES}
    assert len(set(brokers.values())) == 1, brokers


def test_kafka_advertised_listeners_are_declared_and_mapped() -> None:
    listeners = kafka_listeners("KAFKA_LISTENERS")
    advertised = kafka_listeners("KAFKA_ADVERTISED_LISTENERS")
    protocols = protocol_map()
    env = service_environment("kafka")
    controller_names = set(env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(","))

    assert set(advertised) <= set(listeners)
    assert set(listeners) <= set(protocols)
    assert controller_names <= set(listeners)
    assert not controller_names & set(advertised), "a controller listener is never advertised"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    for name in advertised:
        assert advertised[name][1] == listeners[name][1], f"{name}: advertised port differs"


def test_kafka_controller_quorum_is_this_node() -> None:
    env = service_environment("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert len(voters) == 1, "a single-node stack has one voter"
    node_id, _, address = voters[0].partition("@")
    host, _, port = address.rpartition(":")
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(",")[0]
    assert node_id == env["KAFKA_NODE_ID"]
    assert int(port) == kafka_listeners("KAFKA_LISTENERS")[controller][1]
    assert host in {"kafka", service("kafka").get("hostname"), "localhost"}
    assert env.get("CLUSTER_ID"), "the image formats storage with CLUSTER_ID"


def test_kafka_is_set_up_for_one_broker_with_explicit_topics() -> None:
    kafka = service("kafka")
    env = service_environment("kafka")
    assert kafka["image"] == "apache/kafka:3.9.1"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    assert kafka["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    log_dir = env["KAFKA_LOG_DIRS"]
    assert any(str(volume).endswith(f":{log_dir}") for volume in kafka["volumes"])


def test_guard_bootstraps_from_an_advertised_kafka_address() -> None:
    """Clients reconnect to advertised addresses: bootstrapping elsewhere would break later."""
    advertised = {
        f"{host}:{port}" for host, port in kafka_listeners("KAFKA_ADVERTISED_LISTENERS").values()
    }
    for name in GUARD_IMAGE_SERVICES:
        for broker in effective_setting(name, "GUARD_BROKERS").split(","):
            assert broker.strip() in advertised, (name, broker)
            assert broker.split(":")[0] == "kafka", "containers reach Kafka by its service name"


def test_host_facing_kafka_listener_is_the_published_loopback_port() -> None:
    listeners = kafka_listeners("KAFKA_LISTENERS")
    host_facing = {
        name: port
        for name, (host, port) in kafka_listeners("KAFKA_ADVERTISED_LISTENERS").items()
        if host == LOOPBACK
    }
    assert len(host_facing) == 1, "exactly one listener is advertised to the host"
    (name, port), *_ = host_facing.items()
    assert (LOOPBACK, port, listeners[name][1]) in published_ports("kafka")


def test_published_ports_bind_to_loopback_only() -> None:
    published = 0
    for name in load_compose()["services"]:
        for host_ip, host_port, _ in published_ports(name):
            assert host_ip == LOOPBACK, f"{name}: port {host_port} is published beyond loopback"
            published += 1
    assert published >= 2, "kafka's host listener and the guard's metrics are published"


def test_topics_job_runs_once_after_kafka_is_healthy() -> None:
    topics = service("topics")
    assert topics["command"] == ["topics", "create"]
    assert topics["restart"] == "no", "quote it: a bare no is YAML false"
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in service("kafka")


def test_guard_runs_the_worker_after_topics_exist() -> None:
    guard = service("guard")
    command = guard.get("command", json.loads(only("CMD")))
    assert command == ["worker"]
    assert guard["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert guard["image"] == service("topics")["image"], "both run the same guard image"
    assert guard["build"] == service("topics")["build"]
    for name in GUARD_IMAGE_SERVICES:
        assert service(name)["pull_policy"] == "build", "a local image is never pulled"


def test_worker_id_is_fixed_so_a_restart_fences_its_predecessor() -> None:
    assert service_environment("guard").get("GUARD_WORKER_ID")


def test_keys_come_from_compose_secrets_kept_out_of_git_and_the_image() -> None:
    """The keys job copies each compose secret to a 0400 file of uid 10001 on a tmpfs
    volume that the worker mounts read-only (the worker refuses shared key files)."""
    compose = load_compose()
    keys = service("keys")
    env = service_environment("guard")
    assert "GUARD_BLINDING_KEY" not in env and "GUARD_SUBJECT_REF_KEY" not in env
    assert "secrets" not in service("guard"), "the worker must see only the private copies"
    (keys_volume,) = [v for v in keys["volumes"] if v.startswith("guard-keys:")]
    (guard_volume,) = [v for v in service("guard")["volumes"] if v.startswith("guard-keys:")]
    copies = guard_volume.split(":")[1] + "/"
    assert guard_volume.endswith(":ro")
    assert compose["volumes"]["guard-keys"]["driver_opts"]["type"] == "tmpfs"
    copy = " ".join(keys["command"])
    assert "-o 10001 -g 10001 -m 0400" in copy and copy.endswith(keys_volume.split(":")[1] + "/")
    assert service("guard")["depends_on"]["keys"]["condition"] == "service_completed_successfully"
    canary = service("canary")
    assert "secrets" not in canary, "the canary, too, sees only the private copies"
    assert guard_volume in canary["volumes"]
    assert canary["depends_on"]["keys"]["condition"] == "service_completed_successfully"
    for variable in ("GUARD_BLINDING_KEY_FILE", "GUARD_SUBJECT_REF_KEY_FILE"):
        assert service_environment("canary")[variable] == env[variable], variable
    readme = (SECRETS_DIR / "README.md").read_text()
    for variable in ("GUARD_BLINDING_KEY_FILE", "GUARD_SUBJECT_REF_KEY_FILE"):
        path = env[variable]
        assert path.startswith(copies), variable
        secret = path.removeprefix(copies)
        assert secret in keys["secrets"] and f"{SECRETS_MOUNT}{secret}" in copy, variable
        source = Path(compose["secrets"][secret]["file"])
        assert (REPO / source).parent == SECRETS_DIR, source
        assert f"`{source.name}`" in readme and variable in readme, source
        assert is_build_context_excluded(f"deploy/secrets/{source.name}")
    ignored = [
        line.strip()
        for line in (SECRETS_DIR / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored[0] == "*" and set(ignored[1:]) <= {"!README.md", "!.gitignore"}


def test_guard_root_is_read_only_with_its_data_dir_on_tmpfs() -> None:
    guard = service("guard")
    assert guard["read_only"] is True
    mounts = {entry.split(":")[0] for entry in guard["tmpfs"]}
    assert effective_setting("guard", "GUARD_DATA_DIR") in mounts


def test_metrics_port_is_published_on_loopback_and_reachable() -> None:
    port = int(effective_setting("guard", "GUARD_METRICS_PORT"))
    assert (LOOPBACK, port, port) in published_ports("guard")
    assert effective_setting("guard", "GUARD_METRICS_HOST") == "0.0.0.0"
    assert str(port) in only("EXPOSE").split()


def test_guard_healthcheck_probes_the_liveness_endpoint_on_the_metrics_port() -> None:
    port = effective_setting("guard", "GUARD_METRICS_PORT")
    probe = " ".join(service("guard")["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe


def test_compose_file_is_valid_compose(tmp_path: Path) -> None:
    """Structure checked here always; ``docker compose config`` as well where it exists.

    Compose validates its own schema without an engine, so whenever the
    client has the compose plugin the file is also checked by compose itself.
    """
    compose = load_compose()
    expected = {
        "kafka", "keys", "topics", "guard", "canary", "prometheus", "grafana", "schema-registry"
    }  # fmt: skip
    assert set(compose["services"]) == expected
    for name, definition in compose["services"].items():
        for secret in definition.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)
        for volume in definition.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], (name, source)
        for dependency in definition.get("depends_on", {}):
            assert dependency in compose["services"], (name, dependency)

    if compose_plugin_works():
        for file in (COMPOSE_FILE, DOCKERFILE, DOCKERIGNORE):
            shutil.copy(file, tmp_path / file.name)
        for definition in compose["secrets"].values():
            placeholder = tmp_path / definition["file"]
            placeholder.parent.mkdir(parents=True, exist_ok=True)
            placeholder.write_text("placeholder, not a key\n")
        result = subprocess.run(
            ["docker", "compose", "-f", "docker-compose.yml", "config", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def compose_plugin_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, timeout=60, check=False
    )
    return probe.returncode == 0


# --- the Dockerfile and the build context -------------------------------------


def test_every_stage_starts_from_python_311_slim() -> None:
    bases = [
        arguments.split()[0]
        for keyword, arguments in dockerfile_instructions()
        if keyword == "FROM"
    ]
    assert bases and set(bases) == {"python:3.11-slim"}


def test_image_runs_as_the_unprivileged_uid_10001() -> None:
    user = only("USER").split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"


def test_entrypoint_is_the_guard_console_script() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = json.loads(only("ENTRYPOINT"))
    assert entrypoint == ["guard"]
    assert entrypoint[0] in scripts
    assert json.loads(only("CMD")) == ["worker"]


def test_image_environment_names_only_real_variables() -> None:
    known = set(SETTING_DEFAULTS) | {SCHEMA_DIR_ENV}
    guard_variables = {key for key in image_environment() if key.startswith("GUARD_")}
    assert guard_variables <= known, guard_variables - known
    load_config(image_environment())


def test_schemas_are_copied_where_the_codec_is_told_to_look() -> None:
    schema_dir = image_environment()[SCHEMA_DIR_ENV]
    copies = [shlex.split(arguments) for keyword, arguments in final_stage() if keyword == "COPY"]
    assert ["schemas", schema_dir] in copies


def test_package_is_installed_not_editable() -> None:
    runs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert installs
    for run in installs:
        assert not re.search(r"(^|\s)(-e|--editable)(\s|$)", run), run


def test_build_context_holds_what_the_dockerfile_copies_and_no_secrets() -> None:
    for source in copy_sources():
        files = [source] if (REPO / source).is_file() else list(files_under(source))
        assert files, source
        for file in files:
            assert not is_build_context_excluded(file), file
    for private in ("deploy/secrets/blinding.key", ".venv/bin/python", "var/kafka/meta.properties"):
        assert is_build_context_excluded(private), private


def copy_sources() -> Iterator[str]:
    """Paths the Dockerfile copies from the build context (not from another stage)."""
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY":
            continue
        tokens = shlex.split(arguments)
        if any(token.startswith("--from") for token in tokens):
            continue
        paths = [token for token in tokens if not token.startswith("--")]
        yield from paths[:-1]


def files_under(directory: str) -> Iterator[str]:
    for path in sorted((REPO / directory).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(REPO).as_posix()


def is_build_context_excluded(path: str) -> bool:
    """.dockerignore semantics: the last matching pattern wins; a matched directory covers
    everything beneath it."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in dockerignore_patterns():
        is_exception = pattern.startswith("!")
        matcher = pattern_regex(pattern.removeprefix("!").strip("/"))
        if any(matcher.fullmatch(candidate) for candidate in candidates):
            excluded = not is_exception
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        parts.append(
            {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(piece, re.escape(piece))
        )
    return re.compile("".join(parts))


def test_dockerignore_matcher_follows_last_match_wins() -> None:
    """The helper above decides the build-context test, so it gets a check of its own."""
    patterns: Mapping[str, bool] = {
        "guard/cli/main.py": False,
        "guard/__pycache__/x.pyc": True,
        "tests/conftest.py": True,
        "pyproject.toml": False,
        "README.md": True,
    }
    for path, is_excluded in patterns.items():
        assert is_build_context_excluded(path) is is_excluded, path


def test_prometheus_scrapes_the_guard_with_its_alert_rules() -> None:
    prometheus = service("prometheus")
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus/prometheus.yml"
    assert mounts["/etc/prometheus/alerts.yml"] == "./deploy/prometheus/alerts.yml"
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    targets = [
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    ]
    assert "guard:9108" in targets
    assert all(str(p).startswith("127.0.0.1:") for p in prometheus["ports"])


def test_grafana_gets_the_provisioned_dashboard_where_the_provider_looks() -> None:
    grafana = service("grafana")
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in grafana["volumes"]}
    provider = yaml.safe_load(
        (REPO / "deploy/grafana/provisioning/dashboards/disclosure-guard.yml").read_text()
    )
    (path,) = [p["options"]["path"] for p in provider["providers"]]
    assert mounts[path] == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"


# --- schema registry (issue 11) ----------------------------------------------


def test_guard_services_use_the_compose_schema_registry() -> None:
    registry = service("schema-registry")
    assert registry["image"] == "apicurio/apicurio-registry:3.0.9"
    internal_port = registry["ports"][0].rsplit(":", 1)[1]
    for name in GUARD_IMAGE_SERVICES:
        url = service_environment(name)["GUARD_SCHEMA_REGISTRY_URL"]
        assert url == f"http://schema-registry:{internal_port}/apis/ccompat/v7"
    assert "schema-registry" in service("guard")["depends_on"]


def test_schema_registry_keeps_its_schemas_on_a_volume() -> None:
    registry = service("schema-registry")
    env = service_environment("schema-registry")
    volume, mount = registry["volumes"][0].split(":", 1)
    assert volume in load_compose()["volumes"]
    assert env["APICURIO_DATASOURCE_URL"].startswith(f"jdbc:h2:file:{mount}/")
