"""deploy/kubernetes, checked against the Kubernetes API schemas and against the code it deploys.

No cluster is at hand in a test run, so the manifests are held to two things
that can be checked offline. First, the Kubernetes API's own JSON schemas, in
their strict form (an unknown or misspelt field is an error, as it is for
``kubectl apply --validate=strict``), as bundled by kubernetes-validate for
the oldest and newest Kubernetes minor versions this deployment claims.
Second, what the worker needs: every ``GUARD_*`` variable is a real setting
and the whole environment parses, the files the settings name are on the
volumes that hold them, the probes hit the endpoints the worker serves, the
worker id survives a restart, no key material is ever applied, and the pod
meets the "restricted" Pod Security Standard the namespace enforces.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from k8s_manifests import (
    KUSTOMIZATION,
    MANIFEST_DIR,
    REPO,
    SECRET_EXAMPLE,
    Manifest,
    all_of,
    applied_manifests,
    dockerfile_user,
    documents_of,
    key_at,
    kustomization,
    kustomize_build,
    listed_files,
    pod_spec,
    pod_template,
    quantity,
    selects,
    the,
    volume,
    volume_holding,
    worker_container,
    worker_environment,
)

from guard.config.settings import SETTINGS, load_config
from guard.identity.blind import load_secret
from guard.identity.errors import KeyMaterialError
from guard.kafka.acls import Principals
from guard.policy.model import load_policy

# The oldest Kubernetes minor this deployment supports (PodDisruptionBudget's
# unhealthyPodEvictionPolicy is on by default from 1.27) and the newest one
# kubernetes-validate bundles.
SCHEMA_VERSIONS = ("1.29", "1.37")
NAMESPACE = "disclosure-guard"
KEYS_SECRET = "disclosure-guard-keys"
KEY_FILES = {
    "GUARD_BLINDING_KEY_FILE": "blinding.key",
    "GUARD_SUBJECT_REF_KEY_FILE": "subject-ref.key",
    "GUARD_SASL_PASSWORD_FILE": "kafka.password",
    "GUARD_SSL_CA_FILE": "kafka-ca.pem",
}
INIT_CONTAINER = "install-keys"
POD_NAME = "disclosure-guard-0"
SETTING_NAMES = {setting.env for setting in SETTINGS}
SECRET_SETTINGS = {setting.env for setting in SETTINGS if setting.is_secret}
CLUSTER_SCOPED_KINDS = {"Namespace"}


def _every_checked_manifest() -> list[Manifest]:
    return [*applied_manifests(), *documents_of(SECRET_EXAMPLE)]


@pytest.fixture(scope="module")
def statefulset() -> dict[str, Any]:
    return the("StatefulSet")


@pytest.fixture(scope="module")
def container(statefulset: dict[str, Any]) -> dict[str, Any]:
    return worker_container(statefulset)


# --- the Kubernetes API schemas ---------------------------------------------


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("manifest", _every_checked_manifest(), ids=lambda m: m.label)
def test_manifest_is_valid_against_the_kubernetes_schema(manifest: Manifest, version: str) -> None:
    validated = kubernetes_validate.validate(manifest.doc, version, strict=True)
    # The library falls back to an older bundled version when it lacks the
    # one asked for: a silent fallback would be a different check.
    assert validated == version


def test_schema_check_rejects_a_misspelt_field(statefulset: dict[str, Any]) -> None:
    broken = copy.deepcopy(statefulset)
    worker_container(broken)["readinessProbe"]["httpGet"]["paht"] = "/readyz"
    with pytest.raises(kubernetes_validate.ValidationError, match="paht"):
        kubernetes_validate.validate(broken, SCHEMA_VERSIONS[0], strict=True)


def test_schema_check_rejects_a_wrongly_typed_value(statefulset: dict[str, Any]) -> None:
    broken = copy.deepcopy(statefulset)
    broken["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, SCHEMA_VERSIONS[-1], strict=True)


# --- the kustomization --------------------------------------------------------


def test_kustomization_lists_every_manifest_except_the_secret_example() -> None:
    data = kustomization()
    assert data["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert data["kind"] == "Kustomization"
    listed = listed_files()
    assert len(listed) == len(set(listed)), "a file is listed twice"
    for file in listed:
        assert file.is_file(), f"kustomization.yaml lists {file.name}, which does not exist"
    on_disk = {
        path
        for pattern in ("*.yaml", "*.yml", "*.json")
        for path in MANIFEST_DIR.glob(pattern)
        if path not in {KUSTOMIZATION, SECRET_EXAMPLE}
    }
    assert set(listed) == on_disk
    assert SECRET_EXAMPLE not in listed


def test_kustomize_renders_exactly_the_listed_objects() -> None:
    def identity(doc: dict[str, Any]) -> tuple[str, str, str]:
        meta = doc["metadata"]
        return (doc["kind"], meta.get("namespace", ""), meta["name"])

    rendered = kustomize_build()
    assert sorted(map(identity, rendered)) == sorted(identity(m.doc) for m in applied_manifests())


def test_no_secret_is_ever_applied() -> None:
    assert not all_of("Secret")
    assert not [doc for doc in kustomize_build() if doc["kind"] == "Secret"]
    data = kustomization()
    assert "secretGenerator" not in data, "a generator would put key material into the set"


def test_every_namespaced_object_is_in_the_guard_namespace() -> None:
    assert the("Namespace", NAMESPACE)
    for manifest in applied_manifests():
        if manifest.kind in CLUSTER_SCOPED_KINDS:
            continue
        assert manifest.doc["metadata"].get("namespace") == NAMESPACE, manifest.label


# --- configuration ------------------------------------------------------------


def test_every_guard_variable_and_config_key_is_a_real_setting(
    container: dict[str, Any],
) -> None:
    config_map = the("ConfigMap", "disclosure-guard-env")
    names = {*config_map["data"], *(entry["name"] for entry in container.get("env", []))}
    unknown = sorted(names - SETTING_NAMES)
    assert not unknown, f"not settings of guard.config.settings: {unknown}"


def test_no_secret_setting_is_given_as_plain_configuration() -> None:
    exposed = sorted(SECRET_SETTINGS & set(worker_environment(POD_NAME)))
    assert not exposed, f"secrets belong in the keys Secret, read via *_FILE: {exposed}"


def test_worker_environment_loads_as_a_configuration(container: dict[str, Any]) -> None:
    config = load_config(worker_environment(POD_NAME))
    assert config.worker_id == POD_NAME
    assert config.metrics_host == "0.0.0.0"
    assert config.log_format == "json"
    assert config.data_dir == "/var/lib/guard"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == config.metrics_port


def test_policy_file_is_the_mounted_default_drop_policy(
    statefulset: dict[str, Any], tmp_path: Path
) -> None:
    path = worker_environment(POD_NAME)["GUARD_POLICY_FILE"]
    holder, inside = volume_holding(statefulset, path)
    config_map = the("ConfigMap", holder["configMap"]["name"])
    key = key_at(holder["configMap"], inside)
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(config_map["data"][key])
    policy = load_policy(policy_file)
    assert policy.version == "default-drop-all-2026-11"
    assert dict(policy.actions) == {}, "the committed policy must drop every basis"


def _init_container(statefulset: dict[str, Any]) -> dict[str, Any]:
    (init,) = [c for c in pod_spec(statefulset)["initContainers"] if c["name"] == INIT_CONTAINER]
    found: dict[str, Any] = init
    return found


def test_key_files_are_private_copies_of_the_referenced_keys_secret(
    statefulset: dict[str, Any],
) -> None:
    """The worker reads 0400 copies on an in-memory emptyDir; the init container makes them
    from the Secret (which a non-root pod can only get as 0440), with umask 077."""
    environment = worker_environment(POD_NAME)
    init = _init_container(statefulset)
    init_mounts = {m["name"]: m for m in init["volumeMounts"]}
    worker_mounts = {m["name"] for m in worker_container(statefulset)["volumeMounts"]}
    secret = volume(statefulset, "keys-source")["secret"]
    assert secret["secretName"] == KEYS_SECRET
    assert secret.get("optional", False) is False, "a missing Secret must stop the pod"
    assert secret["defaultMode"] == 0o440, "only the owner and the pod's fsGroup may read"
    assert init_mounts["keys-source"]["readOnly"] is True
    assert "keys-source" not in worker_mounts, "the worker must see only the private copies"
    command = " ".join(init["command"])
    assert "umask 077" in command
    assert f"{init_mounts['keys-source']['mountPath']}/* {init_mounts['keys']['mountPath']}/" in (
        command
    )
    for variable, key in KEY_FILES.items():
        holder, inside = volume_holding(statefulset, environment[variable])
        assert holder["name"] == "keys", f"{variable} is not on the private keys volume"
        assert holder["emptyDir"]["medium"] == "Memory", "key copies must never reach a disk"
        assert key_at(secret, inside) == key, variable
    assert pod_spec(statefulset)["securityContext"]["fsGroup"] == 10001


def test_the_init_container_is_as_unprivileged_as_the_worker(
    statefulset: dict[str, Any], container: dict[str, Any]
) -> None:
    init = _init_container(statefulset)
    assert init["image"] == container["image"]
    assert init["securityContext"] == container["securityContext"]


def test_the_worker_connects_over_sasl_ssl_as_its_own_principal() -> None:
    config = load_config(worker_environment(POD_NAME))
    assert config.security_protocol == "SASL_SSL"
    assert config.sasl_mechanism.startswith("SCRAM-")
    assert config.sasl_username == Principals().worker.removeprefix("User:")
    assert config.ssl_check_hostname is True
    assert config.sasl_password is None and config.sasl_password_file is not None


def test_secret_example_matches_the_reference_and_holds_no_usable_key(
    statefulset: dict[str, Any],
) -> None:
    (example,) = documents_of(SECRET_EXAMPLE)
    assert example.kind == "Secret"
    assert example.name == volume(statefulset, "keys-source")["secret"]["secretName"] == KEYS_SECRET
    values: dict[str, str] = example.doc["stringData"]
    assert set(values) == set(KEY_FILES.values())
    instructions = SECRET_EXAMPLE.read_text()
    assert f"create secret generic {KEYS_SECRET}" in instructions
    for key, value in values.items():
        assert f"--from-file={key}=" in instructions, f"no instruction creates {key}"
        with pytest.raises(KeyMaterialError):
            load_secret(value, None, what=key)


def test_data_dir_and_tmp_are_writable_empty_dirs(statefulset: dict[str, Any]) -> None:
    data_dir = worker_environment(POD_NAME)["GUARD_DATA_DIR"]
    for path in (data_dir, "/tmp"):
        holder, _ = volume_holding(statefulset, path)
        assert "emptyDir" in holder, f"{path} must be an emptyDir"


# --- the workload -------------------------------------------------------------


def test_workload_is_one_statefulset_replica_with_the_pod_name_as_worker_id(
    statefulset: dict[str, Any], container: dict[str, Any]
) -> None:
    assert not all_of("Deployment"), "a Deployment's pods change name on restart"
    assert statefulset["spec"]["replicas"] == 1
    (worker_id,) = [e for e in container["env"] if e["name"] == "GUARD_WORKER_ID"]
    assert worker_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert statefulset["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    headless = the("Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"


def test_probes_hit_the_worker_endpoints_on_the_named_metrics_port(
    container: dict[str, Any],
) -> None:
    expected = {
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
        "startupProbe": "/healthz",
    }
    port_names = {port["name"] for port in container["ports"]}
    for probe, path in expected.items():
        http = container[probe]["httpGet"]
        assert http["path"] == path, probe
        assert http["port"] == "metrics", probe
        assert http["port"] in port_names
        assert http.get("scheme", "HTTP") == "HTTP", probe


def test_startup_probe_leaves_the_worker_minutes_to_connect(container: dict[str, Any]) -> None:
    probe = container["startupProbe"]
    budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    assert budget >= 300


def test_container_is_unprivileged_with_a_read_only_root(
    statefulset: dict[str, Any], container: dict[str, Any]
) -> None:
    pod = pod_spec(statefulset)["securityContext"]
    own = container["securityContext"]

    def effective(field: str) -> Any:
        return own.get(field, pod.get(field))

    assert effective("runAsNonRoot") is True
    assert effective("runAsUser") == 10001
    assert dockerfile_user().split(":")[0] == "10001", "the image's USER and runAsUser differ"
    assert own["readOnlyRootFilesystem"] is True
    assert own["allowPrivilegeEscalation"] is False
    assert own.get("privileged", False) is False
    assert own["capabilities"]["drop"] == ["ALL"]
    assert not own["capabilities"].get("add")
    assert effective("seccompProfile") == {"type": "RuntimeDefault"}
    assert (
        the("Namespace", NAMESPACE)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )


def test_no_service_account_token_reaches_the_pod(statefulset: dict[str, Any]) -> None:
    account = the("ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    spec = pod_spec(statefulset)
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    assert spec.get("automountServiceAccountToken") is False


def test_resources_fit_a_registry_of_a_million_records(container: dict[str, Any]) -> None:
    requests = container["resources"]["requests"]
    limits = container["resources"]["limits"]
    assert quantity(requests["memory"]) == 2**30
    assert quantity(limits["memory"]) == 2 * 2**30
    assert quantity(requests["cpu"]) == 0.5
    assert quantity(limits["cpu"]) == 2
    for resource in ("cpu", "memory"):
        assert quantity(requests[resource]) <= quantity(limits[resource]), resource


def test_image_tag_is_the_project_version(container: dict[str, Any]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert container["image"].rsplit(":", 1)[1] == version


# --- disruption budget and services ------------------------------------------


def test_disruption_budget_covers_the_worker_pod(statefulset: dict[str, Any]) -> None:
    budget = the("PodDisruptionBudget")
    labels = pod_template(statefulset)["metadata"]["labels"]
    assert selects(budget["spec"]["selector"], labels)
    assert budget["spec"]["selector"] == statefulset["spec"]["selector"]
    assert budget["spec"].get("maxUnavailable") == 0 or budget["spec"].get("minAvailable") == 1


def test_services_select_the_worker_pod_on_its_metrics_port(statefulset: dict[str, Any]) -> None:
    labels = pod_template(statefulset)["metadata"]["labels"]
    container_ports = {
        p["name"]: p["containerPort"] for p in worker_container(statefulset)["ports"]
    }
    services = all_of("Service")
    assert len(services) == 2
    for service in services:
        spec = service["spec"]
        assert selects({"matchLabels": spec["selector"]}, labels), service["metadata"]["name"]
        assert spec.get("publishNotReadyAddresses") is True, "a not-ready worker must be seen"
        for port in spec["ports"]:
            assert port["targetPort"] in container_ports


def test_metrics_service_is_annotated_for_prometheus(statefulset: dict[str, Any]) -> None:
    service = the("Service", "disclosure-guard-metrics")
    annotations = service["metadata"]["annotations"]
    port = worker_container(statefulset)["ports"][0]["containerPort"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == port
    assert [p["port"] for p in service["spec"]["ports"]] == [port]


def test_selector_helper_refuses_what_it_cannot_read() -> None:
    labels = {"app": "x"}
    assert selects({"matchLabels": {"app": "x"}}, labels)
    assert not selects({"matchLabels": {"app": "y"}}, labels)
    assert not selects({"matchLabels": {}}, labels)
    with pytest.raises(ValueError):
        selects({"matchExpressions": []}, labels)


def test_yaml_octal_modes_are_written_unambiguously() -> None:
    # 0440 means 288 to YAML 1.1 (Kubernetes) but 440 to YAML 1.2 tools.
    text = (MANIFEST_DIR / "statefulset.yaml").read_text()
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        for entry in pod_spec(document).get("volumes", []):
            for source in entry.values():
                if isinstance(source, dict) and "defaultMode" in source:
                    assert f"defaultMode: {source['defaultMode']}" in text
