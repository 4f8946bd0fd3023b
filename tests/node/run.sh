#!/usr/bin/env bash
# Node tests (ctest label `node`): `scripts/testenv up --node` gives the control plane a
# real node (containerd, runc, CNI bridge, kubelet, kube-proxy, kube-scheduler, CoreDNS,
# a storage provisioner), and pods really start on it. Checks, each against the real component:
#   - the node registers and goes Ready;
#   - a pod is scheduled, started by containerd, and goes Ready because the kubelet's
#     HTTP readiness probe passed; the host reaches it on its pod IP;
#   - kube-proxy: a Service's ClusterIP and NodePort reach the pod from the host;
#   - a pod reaches the apiserver through the kubernetes Service with its projected
#     service-account token;
#   - cluster DNS (CoreDNS from the API): a pod fetches from http://web.<ns>.svc/;
#   - storage: a claim naming no class gets a volume from the default StorageClass when
#     its pod is placed; the pod's file is in the volume's directory on the node; deleting
#     the claim deletes the volume and its directory;
#   - holomush:dev (scripts/build-images) runs `holomush --version` to completion, and
#     `kubectl logs` reads its output through the kubelet;
#   - `down` leaves no process, mount, bridge, cgroup or iptables chain behind.
# Needs root, Docker (for the images) and the tools from scripts/build-test-tools.
set -Eeuo pipefail
# Whatever fails, the last line says what and where.
trap 'echo "tests/node/run.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
tag="${HOLOMUSH_IMAGE_TAG:-dev}"
image="holomush:$tag"
ns=node-test
passed=0

say() { echo "node: $*"; }
ok() {
  passed=$((passed + 1))
  echo "ok: $*"
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
now_ms() { date +%s%3N; }

# Polls `cmd...` until it succeeds or `timeout` seconds pass.
wait_until() {
  local timeout=$1
  shift
  local deadline=$(($(now_ms) + timeout * 1000))
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

[ "$(id -u)" -eq 0 ] || fail "the node tests need root (containerd, mounts, iptables)"
command -v docker >/dev/null || fail "the node tests need Docker for the images: no docker on PATH"
docker image inspect "$image" >/dev/null 2>&1 ||
  fail "no $image in Docker: run scripts/build-images (ctest runs container.images first)"

env_dir=$(mktemp -d "${TMPDIR:-/tmp}/holomush-node.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-node-work.XXXXXX")
Cleanup() {
  local status=$?
  "$root/scripts/testenv" down "$env_dir" || status=1
  rm -rf "$work"
  exit "$status"
}
trap Cleanup EXIT

start=$(now_ms)
"$root/scripts/testenv" up "$env_dir" --node --owner $$ >"$work/env"
# shellcheck disable=SC1091
source "$work/env"
up_ms=$(($(now_ms) - start))
k() { "$KUBECTL" "$@"; }
ok "up --node: node $HOLOMUSH_TESTENV_NODE Ready at $HOLOMUSH_TESTENV_NODE_IP in ${up_ms} ms"

# The node's own busybox image (its storage helper's) is the probe: an HTTP server and a
# client for the checks.
probe_image=$HOLOMUSH_TESTENV_BUSYBOX_IMAGE
"$root/scripts/testenv" load "$env_dir" "$image"

k create namespace "$ns" >/dev/null
k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
    - name: web
      image: $probe_image
      imagePullPolicy: IfNotPresent
      command: ["/bin/busybox", "sh", "-c"]
      args:
        - mkdir -p /tmp/www && echo "served by \$(hostname)" >/tmp/www/index.html &&
          exec /bin/busybox httpd -f -p 8080 -h /tmp/www
      ports: [{containerPort: 8080}]
      readinessProbe:
        httpGet: {path: /index.html, port: 8080}
        periodSeconds: 1
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
      volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
start=$(now_ms)
if ! k wait -n "$ns" --for=condition=Ready pod/web --timeout=180s >/dev/null; then
  k describe -n "$ns" pod/web >&2 || true
  fail "pod web did not go Ready"
fi
ok "pod web scheduled, started and Ready by its readiness probe in $(($(now_ms) - start)) ms"

pod_ip=$(k get -n "$ns" pod/web -o 'jsonpath={.status.podIP}')
body=$(curl -fsS --max-time 5 "http://$pod_ip:8080/index.html") ||
  fail "host cannot reach the pod at $pod_ip:8080"
[ "$body" = "served by web" ] || fail "pod answered '$body', not 'served by web'"
ok "host reaches the pod at its IP $pod_ip"

cluster_ip=$(k get -n "$ns" service/web -o 'jsonpath={.spec.clusterIP}')
node_port=$(k get -n "$ns" service/web -o 'jsonpath={.spec.ports[0].nodePort}')
wait_until 60 curl -fsS --max-time 2 "http://$cluster_ip/index.html" ||
  fail "ClusterIP $cluster_ip:80 does not reach the pod (kube-proxy)"
ok "ClusterIP $cluster_ip:80 reaches the pod"
wait_until 60 curl -fsS --max-time 2 "http://$HOLOMUSH_TESTENV_NODE_IP:$node_port/index.html" ||
  fail "NodePort $HOLOMUSH_TESTENV_NODE_IP:$node_port does not reach the pod (kube-proxy)"
ok "NodePort $HOLOMUSH_TESTENV_NODE_IP:$node_port reaches the pod"

# A pod reaches the apiserver through the kubernetes Service (kube-proxy's DNAT to the
# node address the apiserver advertises) and has the token the kubelet projected. Busybox's
# TLS client cannot complete a handshake with Go's TLS server, so the pod sends plain HTTP
# and the apiserver's own TLS listener answers that it wants HTTPS: that reply can only come
# from the apiserver.
k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: api-client
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
    - name: client
      image: $probe_image
      imagePullPolicy: IfNotPresent
      command: ["/bin/busybox", "sh", "-c"]
      args:
        - >-
          test -s /var/run/secrets/kubernetes.io/serviceaccount/token &&
          printf 'GET /version HTTP/1.0\\r\\n\\r\\n' |
          /bin/busybox nc -w 10 "\$KUBERNETES_SERVICE_HOST" "\$KUBERNETES_SERVICE_PORT"
YAML
PodDone() {
  local phase
  phase=$(k get -n "$ns" "pod/$1" -o 'jsonpath={.status.phase}')
  [ "$phase" = Succeeded ] || [ "$phase" = Failed ]
}
wait_until 180 PodDone api-client || fail "pod api-client did not finish"
phase=$(k get -n "$ns" pod/api-client -o 'jsonpath={.status.phase}')
logs=$(k logs -n "$ns" pod/api-client)
[ "$phase" = Succeeded ] && [[ "$logs" == *"Client sent an HTTP request to an HTTPS server"* ]] ||
  fail "pod api-client ended $phase, saying: $logs"
ok "a pod with a projected token reaches the apiserver through the kubernetes Service"

# Cluster DNS: a pod resolves the Service as <svc>.<ns>.svc through the search path the
# kubelet wrote into its resolv.conf, answered by CoreDNS from the API.
k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: dns-client
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
    - name: client
      image: $probe_image
      imagePullPolicy: IfNotPresent
      command: ["/bin/busybox", "sh", "-c"]
      args:
        - >-
          /bin/busybox cat /etc/resolv.conf &&
          /bin/busybox wget -q -O - http://web.$ns.svc/index.html
YAML
wait_until 180 PodDone dns-client || fail "pod dns-client did not finish"
phase=$(k get -n "$ns" pod/dns-client -o 'jsonpath={.status.phase}')
logs=$(k logs -n "$ns" pod/dns-client)
[ "$phase" = Succeeded ] && [[ "$logs" == *"served by web"* ]] ||
  fail "pod dns-client could not fetch http://web.$ns.svc/ (ended $phase), saying: $logs"
ok "a pod resolves web.$ns.svc through cluster DNS and fetches from it"

# Storage: the claim names no class, so it gets the default one, whose provisioner makes a
# volume once the pod using it is placed (WaitForFirstConsumer). The pod writes as a
# non-root user; the file is then in the volume's directory on the node.
k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: writer
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
    - name: writer
      image: $probe_image
      imagePullPolicy: IfNotPresent
      command: ["/bin/busybox", "sh", "-c", "echo kept >/data/file"]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
YAML
start=$(now_ms)
wait_until 180 PodDone writer || fail "pod writer did not finish: $(k describe -n "$ns" pvc/data 2>&1 | tail -n 5)"
phase=$(k get -n "$ns" pod/writer -o 'jsonpath={.status.phase}')
[ "$phase" = Succeeded ] || fail "pod writer ended $phase: $(k logs -n "$ns" pod/writer 2>&1)"
class=$(k get -n "$ns" pvc/data -o 'jsonpath={.spec.storageClassName}')
[ "$class" = "$HOLOMUSH_TESTENV_STORAGE_CLASS" ] || fail "the claim got class '$class', not the default"
volume=$(k get -n "$ns" pvc/data -o 'jsonpath={.spec.volumeName}')
volume_dir=$(k get pv "$volume" -o 'jsonpath={.spec.hostPath.path}')
[ "$(cat "$volume_dir/file" 2>&1)" = kept ] || fail "the pod's file is not in its volume's directory $volume_dir"
ok "a claim with no class got volume $volume from the default StorageClass; the pod's file is on the node ($(($(now_ms) - start)) ms)"
k delete -n "$ns" pod/writer pvc/data --wait=false >/dev/null
volume_gone() { ! k get pv "$volume" >/dev/null 2>&1 && [ ! -e "$volume_dir" ]; }
wait_until 120 volume_gone || fail "deleting the claim left volume $volume or its directory $volume_dir"
ok "deleting the claim deleted the volume and its directory"

# The product's image, run by the kubelet as the chart runs it (non-root, read-only root).
k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: holomush-version
spec:
  restartPolicy: Never
  containers:
    - name: holomush
      image: $image
      imagePullPolicy: IfNotPresent
      args: ["--version"]
      securityContext:
        runAsNonRoot: true
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
YAML
start=$(now_ms)
wait_until 180 PodDone holomush-version || fail "pod holomush-version did not finish"
phase=$(k get -n "$ns" pod/holomush-version -o 'jsonpath={.status.phase}')
logs=$(k logs -n "$ns" pod/holomush-version)
[ "$phase" = Succeeded ] && [[ "$logs" == *holomush* ]] ||
  fail "holomush --version in a pod ended $phase, saying: $logs"
ok "$image ran 'holomush --version' in a pod in $(($(now_ms) - start)) ms: ${logs%%$'\n'*}"

# down must leave nothing of the node behind.
trap - EXIT
start=$(now_ms)
"$root/scripts/testenv" down "$env_dir"
down_ms=$(($(now_ms) - start))
rm -rf "$work"
leftovers=()
[ ! -e "$env_dir" ] || leftovers+=("directory $env_dir")
ip link show hmcni0 >/dev/null 2>&1 && leftovers+=("bridge hmcni0")
for d in /sys/fs/cgroup/*/kubepods; do
  [ ! -d "$d" ] || leftovers+=("cgroup $d")
done
if grep -qF "$env_dir" /proc/self/mountinfo; then leftovers+=("mounts under $env_dir"); fi
for t in filter nat mangle; do
  rules=$(iptables-save -t "$t" 2>/dev/null)
  if grep -qE '^:(KUBE-|CNI-)' <<<"$rules"; then leftovers+=("iptables $t chains"); fi
done
for p in /proc/[0-9]*; do
  if grep -qsF "$env_dir" "$p/cmdline"; then leftovers+=("process ${p#/proc/}"); fi
done
[ ${#leftovers[@]} -eq 0 ] || fail "down left behind: ${leftovers[*]}"
ok "down in ${down_ms} ms left no process, mount, bridge, cgroup or iptables chain"

echo "$passed passed, 0 failed"
