#!/usr/bin/env python3
"""Turns `holomush-operator render` output into `docker run` arguments for tests/container/run.sh,
so the container test runs exactly what the operator's pods would run.

Usage: rendered.py RENDERED_JSON WORK_DIR

For each container the test runs (core, its migrate init container, gateway, backup) it writes
WORK_DIR/rendered/<name>.docker (docker run flags) and <name>.args (the container's args), both
NUL-separated. The pod's volumes become bind mounts of WORK_DIR/config (the ConfigMap's files,
written here), WORK_DIR/tls (the certificate Secret) and WORK_DIR/backups (the claim); emptyDir
becomes a tmpfs; /dev/termination-log is a file, as the kubelet provides it. Environment values
are passed as they are; a value from a Secret is passed by name from the caller's environment
(DATABASE_URL). It also writes core.host: the host the gateway's --core-addr names.
"""
import json
import os
import sys


def documents(text):
    # YAML comment lines (the header) are not JSON.
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for part in text.split("\n---\n"):
        part = part.strip()
        if part.startswith("---"):
            part = part[3:].strip()
        if part:
            yield json.loads(part)


def fail(message):
    sys.exit(f"rendered.py: {message}")


def docker_flags(pod, container, work):
    flags = []
    security = pod.get("securityContext", {})
    user = security.get("runAsUser")
    if user is not None:
        flags += ["--user", f"{user}:{security.get('runAsGroup', user)}"]
    own = container.get("securityContext", {})
    if own.get("readOnlyRootFilesystem"):
        flags.append("--read-only")
    if "ALL" in own.get("capabilities", {}).get("drop", []):
        flags += ["--cap-drop", "ALL"]
    if own.get("allowPrivilegeEscalation") is False:
        flags += ["--security-opt", "no-new-privileges"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"]) or fail(f"no volume {mount['name']}")
        path = mount["mountPath"]
        if "configMap" in volume:
            source = os.path.join(work, "config")
            flags += ["-v", f"{source}:{path}:ro"]
        elif "secret" in volume:
            flags += ["-v", f"{os.path.join(work, 'tls')}:{path}:ro"]
        elif "persistentVolumeClaim" in volume:
            flags += ["-v", f"{os.path.join(work, 'backups')}:{path}"]
        elif "emptyDir" in volume:
            flags += ["--tmpfs", path]
        else:
            fail(f"volume {mount['name']} is of a kind this test does not map")
    termination = os.path.join(work, "rendered", container["name"] + ".termination-log")
    open(termination, "w").close()
    os.chmod(termination, 0o666)
    flags += ["-v", f"{termination}:/dev/termination-log"]
    for env in container.get("env", []):
        if "value" in env:
            flags += ["-e", f"{env['name']}={env['value']}"]
        elif env.get("valueFrom", {}).get("secretKeyRef"):
            flags += ["-e", env["name"]]
        else:
            fail(f"env {env['name']} comes from a source this test does not map")
    return flags


def write_nul(path, items):
    with open(path, "w") as out:
        out.write("".join(item + "\0" for item in items))


def main():
    if len(sys.argv) != 3:
        fail("usage: rendered.py RENDERED_JSON WORK_DIR")
    with open(sys.argv[1]) as f:
        docs = list(documents(f.read()))
    work = sys.argv[2]
    out_dir = os.path.join(work, "rendered")
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(os.path.join(work, "config"), exist_ok=True)

    pods = {}  # container name -> (pod spec, container)
    for doc in docs:
        kind = doc.get("kind")
        if kind == "ConfigMap":
            for name, text in doc.get("data", {}).items():
                with open(os.path.join(work, "config", name), "w") as f:
                    f.write(text)
        elif kind == "Deployment":
            pod = doc["spec"]["template"]["spec"]
        elif kind == "CronJob":
            pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            continue
        if kind in ("Deployment", "CronJob"):
            for c in pod.get("initContainers", []) + pod.get("containers", []):
                pods[c["name"]] = (pod, c)

    for name in ("core", "migrate", "gateway", "backup"):
        if name not in pods:
            fail(f"the render has no container named {name}")
        pod, container = pods[name]
        write_nul(os.path.join(out_dir, name + ".docker"),
                  docker_flags(pod, container, work))
        write_nul(os.path.join(out_dir, name + ".args"), container.get("args", []))

    addr = [a for a in pods["gateway"][1]["args"] if a.startswith("--core-addr=")]
    if len(addr) != 1:
        fail("the gateway's args name no single --core-addr")
    with open(os.path.join(out_dir, "core.host"), "w") as f:
        f.write(addr[0].split("=", 1)[1].rsplit(":", 1)[0])


if __name__ == "__main__":
    main()
