"""deploy/helm/abonent, checked offline: `helm lint --strict`, `helm template` with the default
and the production values, every core object against Kubernetes' own schemas at a pinned
version (kubernetes-validate), every custom resource against deploy/helm/schemas, and then the
fields the operators and the code need, read from the rendered objects."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from shared.topics import ALL_TOPICS, CONTRACTS_EVENTS, CONTRACTS_SCHEDULE
from tests.support.deploy import (
    CHART,
    CR_SCHEMAS,
    KUBERNETES_VERSION,
    RUNTIME,
    TEST_SECRET,
    by_kind,
    containers,
    helm_template,
    role_variables,
    run,
    tool,
)

VALUES = {"default": None, "production": "values-production.yaml"}
OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "barmancloud.cnpg.io/", "monitoring.coreos.com/")


@cache
def rendered(name: str) -> list[dict[str, Any]]:
    return helm_template(VALUES[name])


@pytest.mark.parametrize("values", ["default", "production"])
def test_helm_lint_strict(values: str) -> None:
    file = VALUES[values]
    args = ["-f", str(CHART / file)] if file else ["--set", f"secrets.authHs256Secret={TEST_SECRET}"]
    done = run(tool("helm"), "lint", "--strict", str(CHART), *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("values", ["default", "production"])
def test_every_object_is_valid_for_its_kind(values: str) -> None:
    docs = rendered(values)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy", "Job"} <= kinds
    assert {"KafkaTopic", "KafkaUser", "Cluster", "ServiceMonitor", "PrometheusRule"} <= kinds
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith(OPERATOR_GROUPS):
            jsonschema.validate(doc, _cr_schema(doc["kind"], doc["apiVersion"]))
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise AssertionError(f"{where}: {exc.message}") from None


@cache
def _cr_schema(kind: str, api_version: str) -> dict[str, Any]:
    path = CR_SCHEMAS / f"{kind}_{api_version.replace('/', '_')}.json"
    assert path.exists(), f"no schema for {kind} {api_version} in {CR_SCHEMAS}"
    return json.loads(path.read_text())


def test_the_custom_resource_schemas_catch_mistakes() -> None:
    topic = next(d for d in rendered("default") if d["kind"] == "KafkaTopic")
    schema = _cr_schema("KafkaTopic", "kafka.strimzi.io/v1")
    for broken in (
        {**topic, "spec": {**topic["spec"], "partitions": 0}},
        {**topic, "spec": {**topic["spec"], "replica": 3}},
        {**topic, "apiVersion": "kafka.strimzi.io/v1beta1"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def _refused(*args: str) -> str:
    done = run(tool("helm"), "template", "r", str(CHART), "--kube-version", KUBERNETES_VERSION, *args)
    assert done.returncode != 0, args
    return done.stderr


def test_values_the_chart_refuses() -> None:
    secret = ["--set", f"secrets.authHs256Secret={TEST_SECRET}"]
    # more consumers than partitions
    assert "maxReplicas" in _refused(*secret, "--set", "components.projections.autoscaling.maxReplicas=13")
    # no acks=all write could succeed
    assert "minInsyncReplicas" in _refused(
        *secret, "--set", "kafka.topics.minInsyncReplicas=3", "--set", "kafka.topics.replicas=2"
    )
    assert "authHs256Secret" in _refused("--set", "secrets.authHs256Secret=short")
    assert "authHs256Secret" in _refused()  # no token key at all


# --- what the operators need -----------------------------------------------------------------


@pytest.mark.parametrize(("values", "replicas", "min_isr"), [("default", 1, "1"), ("production", 3, "2")])
def test_kafka_topics_as_the_code_names_them(values: str, replicas: int, min_isr: str) -> None:
    topics = {t["spec"]["topicName"]: t for t in by_kind(rendered(values), "KafkaTopic")}
    assert set(topics) == {t.name for t in ALL_TOPICS}
    for spec in ALL_TOPICS:
        topic = topics[spec.name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "kafka"
        assert topic["spec"]["partitions"] == spec.partitions
        assert topic["spec"]["replicas"] == replicas
        assert topic["spec"]["config"]["min.insync.replicas"] == min_isr
        assert topic["spec"]["config"]["retention.ms"] == str(spec.retention_ms)
    # the rebuild and the per-client watermark read the same partition number of both
    assert topics[CONTRACTS_EVENTS]["spec"]["partitions"] == topics[CONTRACTS_SCHEDULE]["spec"]["partitions"]


def _acls(user: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (acl["resource"]["type"], acl["resource"].get("name", ""), op)
        for acl in user["spec"]["authorization"]["acls"]
        for op in acl["operations"]
    }


def test_kafka_users_may_do_what_each_service_does() -> None:
    users = {u["metadata"]["name"].removeprefix("abonent-"): u for u in by_kind(rendered("production"), "KafkaUser")}
    assert set(users) == {"contracts", "projections", "tickets", "notifier"}
    for user in users.values():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert ("cluster", "", "Describe") in _acls(user)
    assert {("topic", t, "Write") for t in ("contracts.events.v1", "contracts.schedule.v1", "payments.v1")} <= _acls(
        users["contracts"]
    )
    assert ("topic", "tickets.events.v1", "Write") in _acls(users["tickets"])
    projections = _acls(users["projections"])
    assert {("topic", CONTRACTS_EVENTS, "Read"), ("topic", CONTRACTS_SCHEDULE, "Read")} <= projections
    assert {("group", "abonent.projections", "Read"), ("topic", "abonent.projections.dlq", "Write")} <= projections
    notifier = _acls(users["notifier"])
    assert {("topic", CONTRACTS_SCHEDULE, "Read"), ("group", "abonent.notifier", "Read")} <= notifier
    assert not any(op == "Write" and name.endswith(".v1") for _, name, op in projections | notifier)


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def test_each_service_reads_its_database_from_the_cnpg_app_secret() -> None:
    docs = rendered("production")
    clusters = {c["metadata"]["name"]: c for c in by_kind(docs, "Cluster")}
    assert set(clusters) == {f"abonent-pg-{s}" for s in ("contracts", "projections", "tickets", "notifier")}
    for name, cluster in clusters.items():
        assert cluster["spec"]["instances"] == 3
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "abonent_" + name.removeprefix("abonent-pg-")
        assert cluster["spec"]["plugins"][0]["isWALArchiver"] is True  # point-in-time recovery
    wanted = {
        "contracts": "CONTRACTS_DATABASE_URL",
        "projections": "PROJECTIONS_DATABASE_URL",
        "tickets": "TICKETS_DATABASE_URL",
        "notifier": "NOTIFY_DATABASE_URL",
        "scheduler": "CONTRACTS_DATABASE_URL",
        "relay-contracts": "OUTBOX_DATABASE_URL",
        "relay-tickets": "OUTBOX_DATABASE_URL",
    }
    deployments = {d["metadata"]["name"].removeprefix("abonent-"): d for d in by_kind(docs, "Deployment")}
    for component, variable in wanted.items():
        [container] = containers(deployments[component])
        ref = _env(container)[variable]["valueFrom"]["secretKeyRef"]
        assert ref["key"] == "uri" and ref["name"].removesuffix("-app") in clusters, component
    backups = by_kind(docs, "ScheduledBackup")
    assert {b["spec"]["cluster"]["name"] for b in backups} == set(clusters)


def test_an_external_postgresql_comes_from_the_secret() -> None:
    urls = {
        v: f"postgresql://abonent:pw@db:5432/abonent_{s}"
        for v, s in (
            ("CONTRACTS_DATABASE_URL", "contracts"),
            ("PROJECTIONS_DATABASE_URL", "projections"),
            ("TICKETS_DATABASE_URL", "tickets"),
            ("NOTIFY_DATABASE_URL", "notifier"),
        )
    }
    sets = [f"postgresql.external.urls.{k}={v}" for k, v in urls.items()]
    docs = helm_template(
        None,
        "--set",
        "postgresql.cnpg.enabled=false",
        "--set",
        "postgresql.external.enabled=true",
        *[arg for s in sets for arg in ("--set", s)],
    )
    assert not by_kind(docs, "Cluster")
    [secret] = by_kind(docs, "Secret")
    assert {k: secret["stringData"][k] for k in urls} == urls
    [job] = by_kind(docs, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"  # exists before the Job


def test_probes_resources_disruption_budgets_and_autoscalers() -> None:
    docs = rendered("production")
    deployments = {d["metadata"]["name"].removeprefix("abonent-"): d for d in by_kind(docs, "Deployment")}
    assert set(deployments) == {
        "contracts",
        "projections",
        "tickets",
        "notifier",
        "console",
        "scheduler",
        "relay-contracts",
        "relay-tickets",
    }
    for name, deployment in deployments.items():
        [container] = containers(deployment)
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["startupProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], name
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    hpas = {
        h["spec"]["scaleTargetRef"]["name"].removeprefix("abonent-"): h
        for h in by_kind(docs, "HorizontalPodAutoscaler")
    }
    assert set(hpas) == {"contracts", "projections", "tickets", "console"}
    assert hpas["projections"]["spec"]["maxReplicas"] <= 12  # the partitions
    [projections] = containers(deployments["projections"])  # a first fill's workers fit the pod
    assert _env(projections)["PROJECTIONS_REBUILD_WORKERS"]["value"] == "2"
    assert projections["resources"]["limits"]["memory"] == "1Gi"  # the service and 2 workers of ~315 Mi
    assert _env(projections)["PROJECTIONS_DB_POOL_MAX"]["value"] == "20"  # production's env adds, not replaces
    pdbs = {p["metadata"]["name"].removeprefix("abonent-") for p in by_kind(docs, "PodDisruptionBudget")}
    assert pdbs == set(deployments)
    job = by_kind(docs, "Job")[0]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"
    assert [c["args"] for c in containers(job)] == [
        ["migrate", s] for s in ("contracts", "projections", "tickets", "notifier")
    ]


def test_the_service_monitor_scrapes_every_service() -> None:
    docs = rendered("production")
    [monitor] = by_kind(docs, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = by_kind(docs, "Service")
    assert len(services) == 8
    for service in services:
        assert selector.items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_network_policies_say_who_talks_to_whom() -> None:
    policies = {
        p["metadata"]["name"].removeprefix("abonent-"): p for p in by_kind(rendered("production"), "NetworkPolicy")
    }

    def callers(name: str) -> set[str]:
        found = set()
        for rule in policies[name]["spec"]["ingress"]:
            for peer in rule["from"]:
                if "podSelector" in peer:
                    found.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"])
        return found

    assert callers("projections") == {"console", "tickets"}
    assert callers("contracts") == {"console"}
    assert callers("scheduler") == set() and callers("relay-contracts") == set()


# --- the environment: every variable passed exists in the code -----------------------------


def _role(container: dict[str, Any]) -> str:
    args = container["args"]
    return " ".join(args[:2]) if args[0] == "migrate" else args[0]


@pytest.mark.parametrize("values", ["default", "production"])
def test_every_variable_passed_is_read_by_its_role(values: str) -> None:
    docs = rendered(values)
    config_maps = {c["metadata"]["name"]: set(c.get("data", {})) for c in by_kind(docs, "ConfigMap")}
    variables = role_variables()
    checked = 0
    for doc in by_kind(docs, "Deployment") + by_kind(docs, "Job"):
        for container in containers(doc):
            role = _role(container)
            passed = set(_env(container))
            for source in container.get("envFrom", []):
                passed |= config_maps[source["configMapRef"]["name"]]
            if role not in variables:
                assert role == "console", f"{role}: no settings known"
                continue  # services/console is another lane's; checked here once it exists
            unknown = passed - variables[role] - RUNTIME
            assert unknown == set(), f"{doc['metadata']['name']} ({role}) is passed variables it never reads: {unknown}"
            checked += 1
    assert checked >= 7


# --- alerts and dashboard ------------------------------------------------------------------

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_promtool_accepts_the_alert_rules(tmp_path: Path) -> None:
    import yaml

    [rule] = by_kind(rendered("production"), "PrometheusRule")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    done = run(tool("promtool"), "check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_the_issue_names_has_a_runbook_line() -> None:
    [rule] = by_kind(rendered("production"), "PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    exprs = " ".join(r["expr"] for r in alerts.values())
    for metric in (
        "projections_consumer_lag",
        "notifier_consumer_lag",
        "projections_parked_events",
        "dead_letters_total",
        "outbox_oldest_age_seconds",
        "notifier_smtp_up",
        "http_requests_total",
        "scheduler_failed_total",
    ):
        assert metric in exprs, metric
    runbook = OPERATIONS.read_text()
    for name in alerts:
        assert f"`{name}`" in runbook, f"docs/operations.md has no runbook line for {name}"


def test_the_dashboard_is_grafana_json_on_known_metrics() -> None:
    dashboard = json.loads((CHART / "dashboards" / "abonent.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    [config_map] = [
        c for c in by_kind(rendered("default"), "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")
    ]
    assert json.loads(config_map["data"]["abonent.json"]) == dashboard
    for panel in dashboard["panels"]:
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]


PROMTOOL_TESTS = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'outbox_oldest_age_seconds{service="contracts"}'
        values: '600x20'
      - series: 'projections_dead_letters_total'
        values: '0 0 1 1 1'
      - series: 'http_requests_total{job="abonent-tickets",status="201"}'
        values: '0+60x20'
      - series: 'http_requests_total{job="abonent-tickets",status="503"}'
        values: '0+30x20'
      - series: 'projections_parked_events'
        values: '0x20'
      - series: 'consumer_client_rebuilds_total{consumer="abonent.notifier",reason="fetch_failures"}'
        values: '0 1 2 3 4 4 4'
      - series: 'consumer_client_rebuilds_total{consumer="abonent.projections",reason="no_broker_answers"}'
        values: '0 1 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 10m
        alertname: AbonentOutboxBehind
        exp_alerts:
          - exp_labels: {severity: critical, service: contracts}
            exp_annotations:
              summary: "the contracts outbox has a row 600 s old: events are not reaching Kafka"
              runbook: docs/operations.md#abonentoutboxbehind
      - eval_time: 4m
        alertname: AbonentDeadLetters
        exp_alerts:
          - exp_labels: {severity: warning}
            exp_annotations:
              summary: "messages went to a dead-letter topic in the last 15 minutes"
              runbook: docs/operations.md#abonentdeadletters
      - eval_time: 15m
        alertname: AbonentHttp5xx
        exp_alerts:
          - exp_labels: {severity: critical, job: abonent-tickets}
            exp_annotations:
              summary: "abonent-tickets answers 33.33% of its requests with 5xx"
              runbook: docs/operations.md#abonenthttp5xx
      - eval_time: 20m
        alertname: AbonentParkedEvents
        exp_alerts: []
      - eval_time: 6m
        alertname: AbonentConsumerClientRebuilds
        exp_alerts:
          - exp_labels: {severity: warning, consumer: abonent.notifier}
            exp_annotations:
              summary: "the abonent.notifier consumer built its Kafka client again 4 times in 30 minutes"
              runbook: docs/operations.md#abonentconsumerclientrebuilds
"""


def test_the_alerts_fire_on_the_series_they_watch(tmp_path: Path) -> None:
    """promtool's rule unit tests: an old outbox row, one dead letter (only the per-service
    counter exists), a third of a service's answers 5xx, a consumer's Kafka client rebuilt 4 times
    fire; no parked events, and one client rebuild, stay quiet."""
    import yaml

    [rule] = by_kind(rendered("default"), "PrometheusRule")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]))
    (tmp_path / "tests.yaml").write_text(PROMTOOL_TESTS)
    done = run(tool("promtool"), "test", "rules", "tests.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
