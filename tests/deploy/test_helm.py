"""deploy/helm/banatie rendered by Helm's own engine (helm-python-sdk binds Helm's Go SDK), linted,
and every object checked against Kubernetes' OpenAPI schemas (kubernetes-validate, strict)."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.deploy.tools import CHART

KUBERNETES = "1.30.0"  # the oldest version the chart is checked against (Chart.yaml allows 1.25+)
SECRETS = {
    "BANATIE_DATABASE_URL": "postgresql://banatie:pw@postgres:5432/banatie",
    "BANATIE_STORAGE_URL": "s3://banatie?endpoint=https://s3.example.com&region=auto",
    "BANATIE_REDIS_URL": "redis://redis:6379/0",
}


def render(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Objects by kind (each kind at most once here; the job workers' as `Deployment:worker`),
    parsed from the rendered manifests."""
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name="img", namespace="prod", is_install=True)
    objects: dict[str, dict[str, Any]] = {}
    for path, text in manifests.items():
        if not path.endswith(".yaml"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                kind = document["kind"]
                labels = document["metadata"].get("labels", {})
                if labels.get("app.kubernetes.io/component") == "worker":
                    kind += ":worker"
                assert kind not in objects, kind
                objects[kind] = document
    return objects


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict[str, Any]]:
    return render({"secrets": SECRETS})


def test_lint_passes() -> None:
    report = helm.lint(str(CHART), {"secrets": SECRETS}, strict=True)
    assert report["errors"] == [], report
    assert all(m["severity"] <= 1 for m in report["messages"]), report  # INFO at most


@pytest.mark.parametrize(
    "values",
    [
        {"secrets": SECRETS},
        {"existingSecret": "banatie-settings", "autoscaling": {"enabled": False}},
        {"secrets": SECRETS, "ingress": {"enabled": True, "className": "nginx"}},
    ],
    ids=["defaults", "existing-secret-no-hpa", "ingress"],
)
def test_every_object_matches_the_kubernetes_schema(values: dict[str, Any]) -> None:
    for kind, document in render(values).items():
        try:
            kubernetes_validate.validate(document, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{kind}: {exc.message} at {list(exc.path)}")


def test_deployment_probes_health(defaults: dict[str, dict[str, Any]]) -> None:
    (container,) = defaults["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["banatie", "serve", "--host", "0.0.0.0"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["PORT"] == "8000" and env["BANATIE_WORKERS"] == "1"
    assert container["envFrom"] == [{"secretRef": {"name": "img-banatie"}}]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    pod = defaults["Deployment"]["spec"]["template"]["spec"]
    assert (
        pod["securityContext"]["runAsNonRoot"] is True
        and pod["securityContext"]["runAsUser"] == 10001
    )
    # The HPA owns the replica count.
    assert "replicas" not in defaults["Deployment"]["spec"]


def test_hpa_scales_the_deployment_on_cpu(defaults: dict[str, dict[str, Any]]) -> None:
    spec = defaults["HorizontalPodAutoscaler"]["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "img-banatie",
    }
    assert spec["minReplicas"] == 2 and spec["maxReplicas"] == 10
    (metric,) = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    # Utilisation is relative to the request: without one the HPA cannot work.
    (container,) = defaults["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"]


def test_migration_job_runs_before_install_and_upgrade(defaults: dict[str, dict[str, Any]]) -> None:
    job = defaults["Job"]
    hooks = job["metadata"]["annotations"]
    assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["banatie", "migrate"]
    (app,) = defaults["Deployment"]["spec"]["template"]["spec"]["containers"]
    # Same image and the same settings as the pods it prepares the database for.
    assert container["image"] == app["image"] == "banatie:0.1.0"
    assert container["env"] == app["env"] and container["envFrom"] == app["envFrom"]
    # The chart's Secret exists before the Job (a hook of lower weight).
    secret = defaults["Secret"]
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        hooks["helm.sh/hook-weight"]
    )
    assert secret["stringData"] == SECRETS


def test_existing_secret_and_fixed_replicas() -> None:
    objects = render(
        {"existingSecret": "banatie-settings", "autoscaling": {"enabled": False}, "replicaCount": 3}
    )
    assert "Secret" not in objects and "HorizontalPodAutoscaler" not in objects
    assert objects["Deployment"]["spec"]["replicas"] == 3
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "banatie-settings"}}]


def test_without_any_secret_the_install_is_refused() -> None:
    with pytest.raises(helm.HelmError, match="existingSecret"):
        render({})


def test_a_worker_deployment_runs_jobs_apart_from_the_servers(
    defaults: dict[str, dict[str, Any]],
) -> None:
    """As compose's `worker` service: `banatie worker`, the servers' image and settings, no
    HTTP probes; its pods are not the Service's, the HPA's or the PodDisruptionBudget's."""
    worker = defaults["Deployment:worker"]
    server = defaults["Deployment"]
    assert worker["metadata"]["name"] == "img-banatie-worker"
    assert worker["spec"]["replicas"] == 1
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    (app,) = server["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["banatie", "worker"]
    assert container["image"] == app["image"]
    assert container["env"] == app["env"] and container["envFrom"] == app["envFrom"]
    assert "ports" not in container and "livenessProbe" not in container
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    pod_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for selector in (
        defaults["Service"]["spec"]["selector"],
        server["spec"]["selector"]["matchLabels"],
        defaults["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert not selector.items() <= pod_labels.items(), selector
    assert "Deployment:worker" not in render({"secrets": SECRETS, "worker": {"enabled": False}})


def test_pods_get_time_to_finish_and_then_to_give_their_work_back(
    defaults: dict[str, dict[str, Any]],
) -> None:
    """Kubernetes kills a pod terminationGracePeriodSeconds after SIGTERM: longer than the
    server's shutdown timeout, which the chart sets from the same values."""
    for kind in ("Deployment", "Deployment:worker"):
        pod = defaults[kind]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {item["name"]: item["value"] for item in container["env"]}
        timeout = float(env["BANATIE_SHUTDOWN_TIMEOUT_SECONDS"])
        assert timeout == 25
        assert pod["terminationGracePeriodSeconds"] >= timeout + 5, kind
    with pytest.raises(helm.HelmError, match="terminationGracePeriodSeconds"):
        render({"secrets": SECRETS, "shutdownTimeoutSeconds": 50})
    ok = render(
        {"secrets": SECRETS, "shutdownTimeoutSeconds": 50, "terminationGracePeriodSeconds": 60}
    )
    assert ok["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60
