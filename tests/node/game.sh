#!/usr/bin/env bash
# The product on the real node (ctest node.game, label node): what a game operator does, and
# what their players then do. Each step is checked against the real component:
#   - `helm install ./helm/holomush` with our images (imagePullPolicy IfNotPresent, loaded into
#     the node's containerd), two operator replicas electing one leader by Lease, in-cluster
#     configuration, in a namespace that enforces Pod Security `restricted`;
#   - the chart's HoloMUSH with the operator's managed PostgreSQL: its claim and the backup
#     claim name no StorageClass and get volumes from the cluster's default one (the
#     testenv's local-path provisioner makes them when the pods are placed), the StatefulSet's
#     pod initialises the database, the `migrate up` init container runs, core and gateway
#     go Ready **because the kubelet's probes passed**, and the HoloMUSH reports Ready;
#   - the first admin made from a basic-auth Secret (spec.admin.secretName: the core pod's
#     `admin` init container), which `holomush admin create` in the core pod (kubectl exec)
#     then finds already there; two players on telnet through the gateway's NodePort: say,
#     pose, dig (an admin's command), a misspelt exit, an alias;
#   - `helm test`: a pod runs `holomush status` against core and gateway with the chart's
#     cli certificate;
#   - a backup on demand (`kubectl create job --from=cronjob/game-backup`): its pod writes an
#     archive into the backup claim's volume, leaves its outcome as the termination message,
#     and BackupHealthy and status.backup follow; a second one with keepLast 1 leaves only
#     its own archive (the CronJob's environment reaches the command);
#   - deleting the core pod mid-game: the Deployment starts another, and the players, kept
#     by the gateway, go on talking;
#   - a restore drill: a pod restores the newest archive into a fresh database, which then
#     holds the game's rows, table by table;
#   - killing the operator's leader: the standby takes the Lease within the lease time and
#     rewrites none of the game's objects;
#   - restarting the PostgreSQL pod: core's readiness goes 503 then 200, its liveness never
#     restarts it, and every say is one event row;
#   - monitoring: Prometheus (scripts/build-go-tools) discovers the pods through the API as the operator's
#     ServiceMonitors select them, loads the operator's PrometheusRule, and an alias rollback
#     made to fail in the core pod reaches a real Alertmanager as AliasRollbackFailure;
#   - `helm upgrade` with unchanged values replaces no pod; `helm uninstall` keeps the CRD,
#     the HoloMUSH, its claims and Secrets, and installing again finds the same game.
# Needs root, Docker (for the images) and the tools from scripts/build-test-tools and
# scripts/build-go-tools; the Alertmanager is Debian's.
set -Eeuo pipefail
# Whatever fails, the last line says what and where.
trap 'echo "tests/node/game.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
tag="${HOLOMUSH_IMAGE_TAG:-dev}"
images=("holomush:$tag" "holomush-operator:$tag" "holomush-test-postgres:$tag")
ns=game
telnet_port=30421

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }
# shellcheck source=../support/shell_helpers.sh
source "$root/tests/support/shell_helpers.sh"

[ "$(id -u)" -eq 0 ] || fail "the node tests need root (containerd, mounts, iptables)"
command -v docker >/dev/null || fail "the node tests need Docker for the images: no docker on PATH"
for image in "${images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 ||
    fail "no $image in Docker: run scripts/build-images --postgres (ctest runs container.images first)"
done

env_dir=$(mktemp -d "${TMPDIR:-/tmp}/holomush-node-game.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-node-game-work.XXXXXX")
Cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "${KUBECTL:-}" ]; then
    echo "--- what the cluster shows ---" >&2
    "$KUBECTL" get -A pods,pvc,pv,holomush -o wide >&2 || true
    "$KUBECTL" get -n "$ns" events --sort-by=.lastTimestamp >&2 2>/dev/null | tail -n 30 >&2 || true
    for pod in $("$KUBECTL" get -n "$ns" pods -o name 2>/dev/null); do
      echo "--- $pod ---" >&2
      "$KUBECTL" logs -n "$ns" "$pod" --all-containers --tail=20 >&2 2>/dev/null || true
    done
  fi
  local pid
  for pid in ${monitoring_pids:-}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${monitoring_pids:-}; do wait "$pid" 2>/dev/null || true; done
  # down removes what the cluster made, the provisioned volumes' directories too.
  if "$root/scripts/testenv" down "$env_dir"; then rm -rf "$env_dir"; else status=1; fi
  rm -rf "$work"
  exit "$status"
}
trap Cleanup EXIT

start=$(now_ms)
"$root/scripts/testenv" up "$env_dir" --node --owner $$ >"$work/env"
# shellcheck disable=SC1091
source "$work/env"
k() { "$KUBECTL" "$@"; }
ok "up --node: node $HOLOMUSH_TESTENV_NODE Ready at $HOLOMUSH_TESTENV_NODE_IP in $(($(now_ms) - start)) ms"

start=$(now_ms)
"$root/scripts/testenv" load "$env_dir" "${images[@]}" 2>/dev/null
ok "loaded ${images[*]} into the node's containerd in $(($(now_ms) - start)) ms"

k create namespace "$ns" >/dev/null
k label namespace "$ns" pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/enforce-version=latest >/dev/null
# The first admin, from a Secret the operator's pods read (never by registration order).
k create secret generic game-admin -n "$ns" --type=kubernetes.io/basic-auth \
  --from-literal=username=ana --from-literal=password=secret-ana >/dev/null
cat >"$work/values.yaml" <<YAML
operator:
  image: {repository: holomush-operator, tag: "$tag", pullPolicy: IfNotPresent}
instance:
  enabled: true
  name: game
  spec:
    image: holomush:$tag
    imagePullPolicy: IfNotPresent
    admin: {secretName: game-admin}
    database:
      managed:
        image: holomush-test-postgres:$tag
        storageSize: 1Gi
    backup:
      storageSize: 1Gi
      keepLast: 1
    gateway:
      service: {type: NodePort, telnetNodePort: $telnet_port}
YAML
start=$(now_ms)
"$HELM" install holomush "$root/helm/holomush" -n "$ns" -f "$work/values.yaml" >/dev/null ||
  fail "helm install failed"

wait_until 240 k rollout status -n "$ns" deployment/holomush-operator --timeout=5s ||
  fail "the operator's Deployment did not roll out"
holder=$(k get -n "$ns" lease -o 'jsonpath={.items[0].spec.holderIdentity}')
[ -n "$holder" ] || fail "no operator holds the Lease"
ok "helm install: two operator pods Ready, $holder leads"

game_ready() {
  [ "$(k get -n "$ns" holomush/game -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_until 420 game_ready || fail "the HoloMUSH did not become Ready"
install_ms=$(($(now_ms) - start))
# The claims name no class: the cluster's default one makes their volumes when a pod that
# uses one is placed (the database's now, the backups' with the first backup Job).
claim_provisioned() {
  [ "$(k get -n "$ns" "pvc/$1" -o 'jsonpath={.status.phase}')" = Bound ] ||
    fail "the claim $1 is not Bound"
  [ "$(k get -n "$ns" "pvc/$1" -o 'jsonpath={.spec.storageClassName}')" = "$HOLOMUSH_TESTENV_STORAGE_CLASS" ] ||
    fail "the claim $1 did not get the default StorageClass"
  # The volume's directory on the node, which the provisioner's helper pod made.
  volume_dir=$(k get pv "$(k get -n "$ns" "pvc/$1" -o 'jsonpath={.spec.volumeName}')" \
    -o 'jsonpath={.spec.hostPath.path}')
  [ -d "$volume_dir" ] || fail "the claim $1's volume $volume_dir is not on the node"
}
claim_provisioned data-game-postgres-0
for deployment in game-core game-gateway; do
  ready=$(k get -n "$ns" "deployment/$deployment" -o 'jsonpath={.status.readyReplicas}')
  [ "${ready:-0}" -ge 1 ] || fail "$deployment has no ready replica"
done
# The kubelet's probes made them Ready: their conditions say so, and restarts are zero.
restarts=$(k get -n "$ns" pods -l app.kubernetes.io/instance=game \
  -o 'jsonpath={range .items[*]}{.status.containerStatuses[*].restartCount}{" "}{end}')
for r in $restarts; do [ "$r" -eq 0 ] || fail "a game container restarted: $restarts"; done
ok "managed PostgreSQL on a volume the default StorageClass provisioned; core and gateway Ready by their probes ${install_ms} ms after helm install"

# The game's first admin came from the Secret, before core started: `holomush admin create`
# in the running core pod finds it there.
made=$(printf 'secret-ana\n' |
  k exec -i -n "$ns" deployment/game-core -c core -- holomush admin create ana 2>&1) ||
  fail "holomush admin create ana in the core pod: $made"
[[ "$made" == *"ana is already an admin"* ]] || fail "the admin Secret made no admin: $made"
ok "the admin init container made ana from the Secret; kubectl exec -i ... holomush admin create ana: ${made%%$'\n'*}"

# Players, through the NodePort, once kube-proxy has its rules for the gateway's endpoint
# (a Ready pod can be a moment ahead of them).
nodeport_open() { (exec 3<>"/dev/tcp/$HOLOMUSH_TESTENV_NODE_IP/$telnet_port") 2>/dev/null; }
wait_until 60 nodeport_open || fail "nothing answers on the NodePort $HOLOMUSH_TESTENV_NODE_IP:$telnet_port"
telnet_open ana "$telnet_port" "$HOLOMUSH_TESTENV_NODE_IP"
telnet_open bob "$telnet_port" "$HOLOMUSH_TESTENV_NODE_IP"
start=$(now_ms)
telnet_expect ana "quit                           leave" 30
telnet_send ana "connect ana secret-ana"
telnet_expect ana "The Nexus" 30
telnet_expect bob "quit                           leave" 30
telnet_send bob "create bob secret-bob"
telnet_expect bob "The Nexus" 30
ok "the admin and a new player in the game on telnet $HOLOMUSH_TESTENV_NODE_IP:$telnet_port in $(($(now_ms) - start)) ms"
telnet_send ana "say hello from the node"
telnet_expect bob 'Ana says, "hello from the node"'
telnet_send bob ":waves."
telnet_expect ana "Bob waves."
telnet_send ana 'dig north;n to "The Garden" return south;s'
telnet_expect ana "The Garden"
telnet_send ana "nroth"
telnet_expect ana "The Garden"
telnet_send ana "alias hi=say hi all"
telnet_send ana "s"
telnet_expect ana "The Nexus"
telnet_send ana "hi"
telnet_expect bob 'Ana says, "hi all"'
ok "say, pose, dig, a misspelt exit and an alias work between two players"

if ! "$HELM" test holomush -n "$ns" --timeout 180s >"$work/helm-test" 2>&1; then
  cat "$work/helm-test" >&2
  k logs -n "$ns" -l app.kubernetes.io/component=test --tail=20 >&2 || true
  fail "helm test failed"
fi
ok "helm test: holomush status in a pod reached core and gateway"

# A backup on demand, as docs/design/operator.md says: a Job from the operator's CronJob,
# whose pod runs `holomush backup run` into the backup claim; the status follows.
backup_now() {
  local job=$1
  k create job -n "$ns" --from=cronjob/game-backup "$job" >/dev/null
  job_done() {
    local complete failed
    complete=$(k get -n "$ns" "job/$job" -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}')
    failed=$(k get -n "$ns" "job/$job" -o 'jsonpath={.status.conditions[?(@.type=="Failed")].status}')
    [ "$failed" = True ] && fail "the backup Job $job failed: $(k logs -n "$ns" "job/$job" --tail=20 2>&1)"
    [ "$complete" = True ]
  }
  wait_until 240 job_done || fail "the backup Job $job did not complete: $(k logs -n "$ns" "job/$job" --tail=20 2>&1)"
}
start=$(now_ms)
backup_now backup-now
claim_provisioned game-backup
backup_volume=$volume_dir
archives=$(find "$backup_volume" -name '*.dump' | wc -l)
[ "$archives" -ge 1 ] || fail "the backup Job completed but $backup_volume holds no archive"
backup_healthy() {
  [ "$(k get -n "$ns" holomush/game -o 'jsonpath={.status.backup.lastResult}')" = Succeeded ] &&
    [ "$(k get -n "$ns" holomush/game -o 'jsonpath={.status.conditions[?(@.type=="BackupHealthy")].status}')" = True ]
}
wait_until 60 backup_healthy || fail "status.backup did not follow the backup Job"
ok "a backup Job from the CronJob wrote $archives archive(s) to the claim in $(($(now_ms) - start)) ms; BackupHealthy True"
# The run's outcome is the pod's termination message (--status-file=/dev/termination-log, on
# a read-only root filesystem): what the operator reads when a backup fails.
said=$(k get -n "$ns" pods -l batch.kubernetes.io/job-name=backup-now \
  -o 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}')
[[ "$said" == *'"msg":"backup complete"'* ]] || fail "the backup pod left no outcome as its termination message: $said"
# keepLast: 1 reaches `holomush backup run` through the CronJob's environment: a second run
# leaves only its own archive.
first=$(find "$backup_volume" -name '*.dump' -printf '%f\n')
backup_now backup-again
kept=$(find "$backup_volume" -name '*.dump' -printf '%f\n')
[ "$(printf '%s\n' "$kept" | grep -c .)" = 1 ] && [ "$kept" != "$first" ] ||
  fail "keepLast 1 did not take effect: before $first, after $kept"
ok "the outcome is the pod's termination message; keepLast 1 kept only the newest archive ($kept)"

# A restore drill, as an operator would run one: a pod from the game's image restores the
# newest archive from the backup claim into a fresh database on the same server, and the
# rows there are the rows of the game (nobody has played since the backup; `sessions` only
# by id, since core keeps renewing their leases).
# SQL against the managed database from the host, through the pod's address (looked up each
# time: the pod is restarted below).
pg_password=$(k get -n "$ns" secret game-postgres -o 'jsonpath={.data.password}' | base64 -d)
sql() {  # statement [database]
  PGPASSWORD=$pg_password \
    psql -h "$(k get -n "$ns" pod game-postgres-0 -o 'jsonpath={.status.podIP}')" -U holomush \
    -d "${2:-holomush}" -tAc "$1"
}
sql "CREATE DATABASE drill" >/dev/null
start=$(now_ms)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: restore-drill
  namespace: $ns
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: restore
      image: holomush:$tag
      imagePullPolicy: IfNotPresent
      args: [backup, restore, /backup/$kept]
      env:
        - {name: DATABASE_URL, value: "postgresql://holomush@game-postgres.$ns.svc:5432/drill?sslmode=disable"}
        - name: PGPASSWORD
          valueFrom: {secretKeyRef: {name: game-postgres, key: password}}
        - {name: TMPDIR, value: /tmp}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
      volumeMounts:
        - {name: backup, mountPath: /backup, readOnly: true}
        - {name: tmp, mountPath: /tmp}
  volumes:
    - name: backup
      persistentVolumeClaim: {claimName: game-backup, readOnly: true}
    - name: tmp
      emptyDir: {}
YAML
drill_done() {
  local phase
  phase=$(k get -n "$ns" pod/restore-drill -o 'jsonpath={.status.phase}')
  [ "$phase" = Failed ] && fail "the restore drill failed: $(k logs -n "$ns" pod/restore-drill --tail=20 2>&1)"
  [ "$phase" = Succeeded ]
}
wait_until 180 drill_done || fail "the restore drill did not finish: $(k logs -n "$ns" pod/restore-drill --tail=20 2>&1)"
drill_ms=$(($(now_ms) - start))
tables=$(sql "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
table_count=$(printf '%s\n' "$tables" | grep -c .)
[ "$table_count" -ge 8 ] || fail "too few tables in the game's database: $tables"
# One line per table, "table rows md5-of-sorted-rows", in one query per database.
summary=""
for table in $tables; do
  rows="x"
  # A lease moves on every 5 s renewal: sessions and process leases compare by id.
  case "$table" in sessions | core_leases) rows="x.id" ;; esac
  summary+="${summary:+ UNION ALL }SELECT '$table' || ' ' || count(*) || ' ' || md5(coalesce(string_agg(($rows)::text, '|' ORDER BY ($rows)::text), '')) FROM $table x"
done
sql "$summary ORDER BY 1" holomush >"$work/rows-game"
sql "$summary ORDER BY 1" drill >"$work/rows-drill"
diff -u "$work/rows-game" "$work/rows-drill" >&2 ||
  fail "the restored database differs from the game's (table, rows, md5; diff above)"
events=$(sed -n 's/^events \([0-9]*\) .*/\1/p' "$work/rows-drill")
[ "${events:-0}" -ge 3 ] || fail "the restored database holds only ${events:-0} events"
k delete -n "$ns" pod/restore-drill --wait=false >/dev/null
ok "restore drill: $kept restored by a pod into a fresh database in ${drill_ms} ms; all $table_count tables hold the same rows ($events events)"

# The core pod goes; the Deployment replaces it; the gateway keeps the players.
old=$(k get -n "$ns" pods -l app.kubernetes.io/instance=game,app.kubernetes.io/component=core \
  -o 'jsonpath={.items[0].metadata.name}')
start=$(now_ms)
k delete -n "$ns" pod "$old" --wait=false >/dev/null
core_replaced() {
  local name
  name=$(k get -n "$ns" pods -l app.kubernetes.io/instance=game,app.kubernetes.io/component=core \
    --field-selector=status.phase=Running -o 'jsonpath={.items[?(@.status.containerStatuses[0].ready==true)].metadata.name}')
  [ -n "$name" ] && [ "$name" != "$old" ]
}
wait_until 180 core_replaced || fail "no new core pod became Ready after $old was deleted"
# The old pod drains its streams for half its grace period before they end; only then do the
# players move, so wait for it to be gone.
old_gone() { ! k get -n "$ns" pod "$old" >/dev/null 2>&1; }
wait_until 60 old_gone || fail "the deleted core pod $old is still there"
telnet_send bob "say still here"
telnet_expect ana 'Bob says, "still here"' 60
# What ana saw meanwhile: the gateway's notice once, nothing doubled.
notice="[The connection to the game was interrupted. Reconnecting...]"
seen=$telnet_before
[ "$(grep -cF -- "$notice" <<<"$seen")" = 1 ] ||
  fail "ana saw the gateway's notice $(grep -cF -- "$notice" <<<"$seen") times: $(printf '%q' "$seen")"
ok "core pod $old deleted: it is gone, a new one Ready, the players talking again in $(($(now_ms) - start)) ms, one notice each"

# The operator's leader pod is force-deleted (`--grace-period=0 --force`). The standby takes
# the Lease once it runs out (sooner when the dying leader still managed to release it) and,
# reconciling, rewrites none of the game's objects:
# workloads keep their generation, the rest their resourceVersion.
children() {
  k get -n "$ns" deployments,statefulsets,cronjobs -l app.kubernetes.io/instance=game \
    -o 'jsonpath={range .items[*]}{.kind}/{.metadata.name} generation {.metadata.generation}{"\n"}{end}'
  k get -n "$ns" services,configmaps,secrets,networkpolicies -l app.kubernetes.io/instance=game \
    -o 'jsonpath={range .items[*]}{.kind}/{.metadata.name} version {.metadata.resourceVersion}{"\n"}{end}'
}
children >"$work/children-before"
[ "$(grep -c . "$work/children-before")" -ge 8 ] || fail "too few of the game's objects found: $(cat "$work/children-before")"
leader=$(k get -n "$ns" lease -o 'jsonpath={.items[0].spec.holderIdentity}')
leader_pod=${leader%_*}
start=$(now_ms)
k delete -n "$ns" pod "$leader_pod" --grace-period=0 --force >/dev/null 2>&1
new_leader() {
  holder=$(k get -n "$ns" lease -o 'jsonpath={.items[0].spec.holderIdentity}')
  [ -n "$holder" ] && [ "${holder%_*}" != "$leader_pod" ]
}
wait_until 60 new_leader || fail "no other operator took the Lease after $leader_pod was killed"
takeover_ms=$(($(now_ms) - start))
# Worst case when the dying leader cannot release it: the 15 s lease counted from the last
# renewal the standby saw (up to a 2 s retry late), plus its own 2 s retry; 25 s leaves room
# for a loaded machine.
[ "$takeover_ms" -le 25000 ] || fail "the standby took ${takeover_ms} ms to take the Lease (15 s lease, 2 s retry)"
leader_ip=$(k get -n "$ns" pod "${holder%_*}" -o 'jsonpath={.status.podIP}')
reconciled() {
  curl -fsS --max-time 2 "http://$leader_ip:8081/metrics" |
    grep -Eq '^holomush_operator_reconcile_total\{controller="holomush",result="success"\} [1-9]'
}
wait_until 60 reconciled || fail "the new leader ${holder%_*} never reconciled the game"
children >"$work/children-after"
diff -u "$work/children-before" "$work/children-after" >&2 ||
  fail "the new leader rewrote the game's objects (diff above)"
ok "leader $leader_pod force-deleted: ${holder%_*} took the Lease in ${takeover_ms} ms and rewrote none of $(grep -c . "$work/children-after") objects"

# The database pod restarts: core's readiness goes 503 (the kubelet takes it out of the
# Service), then 200 again, and core is never restarted by its liveness probe.
core_pod=$(k get -n "$ns" pods -l app.kubernetes.io/instance=game,app.kubernetes.io/component=core \
  --field-selector=status.phase=Running -o 'jsonpath={.items[0].metadata.name}')
core_ip=$(k get -n "$ns" pod "$core_pod" -o 'jsonpath={.status.podIP}')
readiness_is() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$core_ip:9100/healthz/readiness")" = "$1" ]
}
readiness_is 200 || fail "core $core_pod is not ready before the database restart"
start=$(now_ms)
k delete -n "$ns" pod game-postgres-0 --wait=false >/dev/null
wait_until 60 readiness_is 503 || fail "core's readiness never turned 503 while its database was down"
wait_until 240 readiness_is 200 || fail "core's readiness did not come back after the database restart"
db_ms=$(($(now_ms) - start))
core_restarts=$(k get -n "$ns" pod "$core_pod" -o 'jsonpath={.status.containerStatuses[0].restartCount}')
[ "$core_restarts" = 0 ] || fail "core $core_pod was restarted $core_restarts time(s) during the database restart"
telnet_send bob "say after the database restart"
telnet_expect ana 'Bob says, "after the database restart"' 60
[[ "$telnet_before" != *'says, "'* ]] || fail "ana saw a say again after the database restart: $(printf '%q' "$telnet_before")"
# Every say the players made is one event row: none lost, none written twice.
says=$(sql "SELECT count(*) || ' ' || count(DISTINCT payload->>'message') FROM events WHERE type = 'say'")
[ "$says" = "4 4" ] || fail "expected 4 distinct say events, the database holds (count, distinct) $says"
ok "database pod restarted: core readiness 503 then 200 in ${db_ms} ms, no core restart, 4 says stored once each"

# Monitoring for real: a Prometheus on the host finds the game's pods through the API
# (kubernetes_sd, endpoints role), scraping what the operator's ServiceMonitors select, the
# way the Prometheus Operator turns a ServiceMonitor into a scrape job; it loads the rules read
# back from the operator's PrometheusRule and sends to a real Alertmanager. An alias rollback
# made to fail in the running core pod then reaches Alertmanager as AliasRollbackFailure.
mon="$work/monitoring"
# Debian's prometheus has no Kubernetes discovery; this one is built from the module proxy.
prometheus="$("$root/scripts/build-go-tools")/bin/prometheus"
mkdir -p "$mon/prometheus-data" "$mon/alertmanager-data"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
am_port=$(free_port)
prom_port=$(free_port)
cat >"$mon/alertmanager.yml" <<YAML
route: {receiver: keep, group_wait: 1s, group_interval: 1s}
receivers: [{name: keep}]
YAML
k get -n "$ns" prometheusrules -o json >"$mon/prometheusrules.json"
k get -n "$ns" servicemonitors -o json >"$mon/servicemonitors.json"
python3 - "$mon" "$KUBECONFIG" "$am_port" <<'PY'
import json, re, sys
mon, kubeconfig, am_port = sys.argv[1:]
meta = lambda key: re.sub(r"[^a-zA-Z0-9_]", "_", key)
rules = json.load(open(f"{mon}/prometheusrules.json"))["items"]
groups = [g for r in rules for g in r["spec"]["groups"]]
json.dump({"groups": groups}, open(f"{mon}/rules.yml", "w"))
jobs = []
for m in json.load(open(f"{mon}/servicemonitors.json"))["items"]:
    spec, ns, name = m["spec"], m["metadata"]["namespace"], m["metadata"]["name"]
    for i, ep in enumerate(spec["endpoints"]):
        relabel = [{"source_labels": [f"__meta_kubernetes_service_label_{meta(k)}"],
                    "regex": v, "action": "keep"}
                   for k, v in spec["selector"].get("matchLabels", {}).items()]
        relabel += [
            {"source_labels": ["__meta_kubernetes_endpoint_port_name"], "regex": ep["port"],
             "action": "keep"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": [f"__meta_kubernetes_service_label_{meta(spec['jobLabel'])}"],
             "target_label": "job"},
        ]
        jobs.append({"job_name": f"serviceMonitor/{ns}/{name}/{i}",
                     "metrics_path": ep.get("path", "/metrics"),
                     "kubernetes_sd_configs": [{"role": "endpoints", "kubeconfig_file": kubeconfig,
                                                "namespaces": {"names": [ns]}}],
                     "relabel_configs": relabel})
config = {"global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
          "rule_files": [f"{mon}/rules.yml"],
          "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
          "scrape_configs": jobs}
json.dump(config, open(f"{mon}/prometheus.yml", "w"), indent=1)
PY
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["scrape_configs"]))' "$mon/prometheus.yml")" -ge 2 ] ||
  fail "the operator's ServiceMonitors gave fewer than two scrape jobs: $(cat "$mon/servicemonitors.json")"
prometheus-alertmanager --config.file="$mon/alertmanager.yml" --storage.path="$mon/alertmanager-data" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$mon/alertmanager.log" 2>&1 &
monitoring_pids="$!"
"$prometheus" --config.file="$mon/prometheus.yml" --storage.tsdb.path="$mon/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$mon/prometheus.log" 2>&1 &
monitoring_pids="$monitoring_pids $!"
prom() { curl -fsS --max-time 5 "http://127.0.0.1:$prom_port$1"; }
targets_up() {
  prom /api/v1/targets | python3 -c '
import json, sys
up = {t["labels"].get("job") for t in json.load(sys.stdin)["data"]["activeTargets"] if t["health"] == "up"}
sys.exit(0 if {"holomush-core", "holomush-gateway"} <= up else 1)'
}
start=$(now_ms)
wait_until 90 targets_up || fail "Prometheus did not find core and gateway up through the API: $({ prom /api/v1/targets | cut -c1-2000; tail -5 "$mon/prometheus.log"; } 2>&1 || true)"
rules_loaded=$(prom /api/v1/rules | python3 -c '
import json, sys
print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')
prom /api/v1/rules | grep -q '"name":"AliasRollbackFailure"' ||
  fail "the rules read back from the PrometheusRule have no AliasRollbackFailure"
ok "Prometheus discovered core and gateway through the API in $(($(now_ms) - start)) ms and loaded $rules_loaded rules from the operator's PrometheusRule"
sql "CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'injected: no deletes'; END \$\$;
     CREATE TRIGGER refuse_delete BEFORE DELETE ON player_aliases FOR EACH ROW EXECUTE FUNCTION refuse_delete();" >/dev/null
start=$(now_ms)
telnet_send ana "alias loopa=loopb"
telnet_expect ana "Alias 'loopa' set"
telnet_send ana "alias loopb=loopa"
telnet_expect ana "Alias not set."
firing() {
  curl -fsS --max-time 5 "http://127.0.0.1:$am_port/api/v2/alerts?filter=alertname%3D%22AliasRollbackFailure%22" |
    python3 -c '
import json, sys
alerts = json.load(sys.stdin)
ok = [a for a in alerts if a["labels"].get("severity") == "critical" and a["labels"].get("job") == "holomush-core"
      and a["labels"].get("namespace") == sys.argv[1] and a["annotations"].get("runbook_url", "").endswith("AliasRollbackFailure.md")]
sys.exit(0 if ok else 1)' "$ns"
}
wait_until 90 firing || fail "AliasRollbackFailure never reached Alertmanager: $(prom '/api/v1/query?query=holomush_alias_rollback_failures_total' 2>&1 || true)"
alert_ms=$(($(now_ms) - start))
sql "DROP TRIGGER refuse_delete ON player_aliases; DROP FUNCTION refuse_delete();
     DELETE FROM player_aliases WHERE alias = 'loopb';" >/dev/null
ok "an alias rollback failed in the core pod: AliasRollbackFailure (critical, job holomush-core, namespace $ns, its runbook) reached Alertmanager in ${alert_ms} ms"

# `helm upgrade` with nothing changed restarts no pod.
pods() { k get -n "$ns" pods -o 'jsonpath={range .items[*]}{.metadata.uid}{"\n"}{end}' | sort; }
pods >"$work/pods-before"
k get -n "$ns" deployments,statefulsets -o \
  'jsonpath={range .items[*]}{.metadata.name} {.metadata.generation}{"\n"}{end}' >"$work/gen-before"
"$HELM" upgrade holomush "$root/helm/holomush" -n "$ns" -f "$work/values.yaml" >/dev/null ||
  fail "helm upgrade failed"
k get -n "$ns" deployments,statefulsets -o \
  'jsonpath={range .items[*]}{.metadata.name} {.metadata.generation}{"\n"}{end}' >"$work/gen-after"
diff -u "$work/gen-before" "$work/gen-after" >&2 || fail "helm upgrade changed a Deployment or StatefulSet (diff above)"
pods >"$work/pods-after"
diff -u "$work/pods-before" "$work/pods-after" >&2 || fail "helm upgrade replaced pods (diff above)"
ok "helm upgrade with unchanged values: no workload changed, no pod replaced"

# `helm uninstall` removes the operator but keeps the CRD, the HoloMUSH (resource policy
# keep), its claims and its Secrets; installing again finds the same game.
"$HELM" uninstall holomush -n "$ns" --wait --timeout 120s >/dev/null || fail "helm uninstall failed"
k get crd holomushes.holomush.io >/dev/null 2>&1 || fail "helm uninstall removed the CRD"
k get -n "$ns" holomush/game >/dev/null 2>&1 || fail "helm uninstall removed the HoloMUSH"
k get -n "$ns" pvc/data-game-postgres-0 pvc/game-backup secret/game-postgres secret/game-admin >/dev/null ||
  fail "helm uninstall removed the game's claims or Secrets"
operator_gone() { [ -z "$(k get -n "$ns" pods -l app.kubernetes.io/name=holomush-operator -o name)" ]; }
wait_until 120 operator_gone || fail "the operator's pods outlived helm uninstall"
start=$(now_ms)
"$HELM" install holomush "$root/helm/holomush" -n "$ns" -f "$work/values.yaml" >/dev/null ||
  fail "helm install over the kept game failed"
wait_until 240 k rollout status -n "$ns" deployment/holomush-operator --timeout=5s ||
  fail "the operator's Deployment did not roll out again"
wait_until 240 game_ready || fail "the kept HoloMUSH is not Ready after installing again"
telnet_open carol "$telnet_port" "$HOLOMUSH_TESTENV_NODE_IP"
telnet_expect carol "quit                           leave" 30
telnet_send carol "connect ana secret-ana"
telnet_expect carol "The Nexus" 30
telnet_send carol "aliases"
telnet_expect carol "hi = say hi all" 30
[ "$(sql "SELECT count(*) FROM events WHERE type = 'say'")" = 4 ] || fail "the game's events changed across uninstall and install"
ok "helm uninstall kept the CRD, the HoloMUSH, its claims and Secrets; installed again in $(($(now_ms) - start)) ms, ana logs in to her alias"
