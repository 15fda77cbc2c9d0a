"""Reading deploy/kubernetes as data, for tests/deploy/test_kubernetes.py.

The tests ask questions of the manifests ("which container runs the worker",
"what environment does the worker see") rather than of YAML paths, so that a
question answered wrongly fails with a message about the deployment, and a
manifest reorganised without changing meaning needs no test change.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFEST_DIR = REPO / "deploy" / "kubernetes"
KUSTOMIZATION = MANIFEST_DIR / "kustomization.yaml"
SECRET_EXAMPLE = MANIFEST_DIR / "secret.example.yaml"
DOCKERFILE = REPO / "Dockerfile"

WORKER_CONTAINER = "guard"


@dataclass(frozen=True, slots=True)
class Manifest:
    """One Kubernetes object and the file it came from."""

    file: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def label(self) -> str:
        return f"{self.file.name}:{self.kind}/{self.name}"


def documents_of(file: Path) -> list[Manifest]:
    """Every non-empty YAML document of ``file``."""
    docs = [doc for doc in yaml.safe_load_all(file.read_text()) if doc is not None]
    for doc in docs:
        if not isinstance(doc, dict):
            raise TypeError(f"{file.name}: a document is not a mapping")
    return [Manifest(file, doc) for doc in docs]


def kustomization() -> dict[str, Any]:
    data = yaml.safe_load(KUSTOMIZATION.read_text())
    if not isinstance(data, dict):
        raise TypeError("kustomization.yaml is not a mapping")
    return data


def listed_files() -> list[Path]:
    """The files kustomization.yaml lists under ``resources``, in order."""
    return [MANIFEST_DIR / str(entry) for entry in kustomization().get("resources", [])]


def applied_manifests() -> list[Manifest]:
    """Every object ``kubectl apply -k deploy/kubernetes`` would create."""
    return [manifest for file in listed_files() for manifest in documents_of(file)]


def the(kind: str, name: str | None = None) -> dict[str, Any]:
    """The one applied object of ``kind`` (and ``name``); fails if none or several."""
    found = [
        m.doc for m in applied_manifests() if m.kind == kind and (name is None or m.name == name)
    ]
    if len(found) != 1:
        wanted = kind if name is None else f"{kind}/{name}"
        raise LookupError(f"expected exactly one {wanted} in the kustomization, found {len(found)}")
    return found[0]


def all_of(kind: str) -> list[dict[str, Any]]:
    return [m.doc for m in applied_manifests() if m.kind == kind]


def pod_template(statefulset: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = statefulset["spec"]["template"]
    return template


def pod_spec(statefulset: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = pod_template(statefulset)["spec"]
    return spec


def worker_container(statefulset: dict[str, Any]) -> dict[str, Any]:
    containers = [c for c in pod_spec(statefulset)["containers"] if c["name"] == WORKER_CONTAINER]
    if len(containers) != 1:
        raise LookupError(f"expected one container named {WORKER_CONTAINER!r}")
    container: dict[str, Any] = containers[0]
    return container


def volume(statefulset: dict[str, Any], name: str) -> dict[str, Any]:
    for candidate in pod_spec(statefulset).get("volumes", []):
        if candidate["name"] == name:
            found: dict[str, Any] = candidate
            return found
    raise LookupError(f"no volume named {name!r}")


def volume_holding(statefulset: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The volume a path in the worker container lies on, and the path inside it.

    Raises LookupError for a path on the container's own (read-only) root.
    """
    best: tuple[dict[str, Any], str] | None = None
    best_length = -1
    for mount in worker_container(statefulset).get("volumeMounts", []):
        root = str(mount["mountPath"]).rstrip("/")
        if (path == root or path.startswith(root + "/")) and len(root) > best_length:
            best = (volume(statefulset, mount["name"]), path[len(root) :].lstrip("/"))
            best_length = len(root)
    if best is None:
        raise LookupError(f"{path} is on no mounted volume")
    return best


def key_at(source: dict[str, Any], inside: str) -> str:
    """The Secret or ConfigMap key a Secret/ConfigMap volume shows at path ``inside``.

    With ``items``, only the listed paths exist; without, every key is a file
    of its own name. Raises LookupError for a path that no key is shown at.
    """
    if "items" not in source:
        return inside
    for item in source["items"]:
        if item["path"] == inside:
            return str(item["key"])
    raise LookupError(f"no key of the volume is shown at {inside!r}")


def worker_environment(pod_name: str) -> dict[str, str]:
    """The environment the worker container sees in a pod called ``pod_name``.

    Resolves ``envFrom`` ConfigMaps and ``env`` entries (later ones win, as in
    Kubernetes). A source this function does not know raises, so that a new
    kind of reference cannot slip past the tests unread.
    """
    statefulset = the("StatefulSet")
    container = worker_container(statefulset)
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if set(source) != {"configMapRef"}:
            raise ValueError(f"envFrom source {sorted(source)} is not a ConfigMap reference")
        config_map = the("ConfigMap", source["configMapRef"]["name"])
        environment.update({key: str(value) for key, value in config_map["data"].items()})
    for entry in container.get("env", []):
        if "value" in entry:
            environment[entry["name"]] = str(entry["value"])
        elif entry.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            environment[entry["name"]] = pod_name
        else:
            raise ValueError(f"env {entry['name']}: a source the tests cannot resolve")
    return environment


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only) selects objects carrying ``labels``."""
    if set(selector) - {"matchLabels"}:
        raise ValueError("only matchLabels selectors are understood here")
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def kustomize_build() -> list[dict[str, Any]]:
    """The objects real kustomize (built into kubectl) renders from the kustomization."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError(
            "kubectl is not on PATH; it renders the kustomization with its built-in kustomize "
            "(install kubectl, e.g. from the Kubernetes apt repository)"
        )
    rendered = subprocess.run(
        [kubectl, "kustomize", str(MANIFEST_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if rendered.returncode != 0:
        raise RuntimeError(f"kubectl kustomize failed: {rendered.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc is not None]


def dockerfile_user() -> str:
    """The argument of the Dockerfile's last USER instruction."""
    users = [
        line.split(None, 1)[1].strip()
        for line in DOCKERFILE.read_text().splitlines()
        if line.strip().upper().startswith("USER ")
    ]
    if not users:
        raise LookupError("the Dockerfile has no USER instruction")
    return users[-1]


def quantity(text: str | int) -> float:
    """A Kubernetes resource quantity as a number (cores or bytes)."""
    raw = str(text)
    suffixes = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
    }
    for suffix, factor in suffixes.items():
        if raw.endswith(suffix):
            return float(raw.removesuffix(suffix)) * factor
    return float(raw)
