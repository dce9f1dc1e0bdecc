#!/bin/sh
# The node container's init, run under docker-init: starts the node's own Docker daemon, then
# the node agent and, on the control plane, the API server; restarts either if it exits, and
# stops everything on SIGTERM. `mkc up` sets MKC_NODE_NAME, MKC_NODE_ROLE and MKC_NODE_IP and
# places the node's kubeconfig and certificates under /etc/mkc before the container starts.
set -eu

log=/var/log/mkc
mkdir -p "$log"

# Without --privileged the cgroup hierarchies are mounted read-only; the inner dockerd needs to
# write them. A plain `remount,rw` answers "busy": a bind remount works.
for hierarchy in /sys/fs/cgroup/*; do
    [ -d "$hierarchy" ] && mount -o remount,bind,rw "$hierarchy" 2>/dev/null || true
done

dockerd --host unix:///var/run/docker.sock --storage-driver overlay2 >"$log/dockerd.log" 2>&1 &
dockerd_pid=$!

# Runs a program again a second after it exits, so a crash of the agent or the server is a
# restart, as systemd would make it.
keep_running() {
    while :; do
        "$@" || true
        echo "mkc-node-init: $1 exited; starting it again in 1s" >&2
        sleep 1
    done
}

loops=""
if [ "$MKC_NODE_ROLE" = control-plane ]; then
    keep_running mkc server --data-dir /var/lib/mkc --bind 0.0.0.0:6443 \
        --advertise-address "$MKC_NODE_IP" --dns-bind 0.0.0.0:53 &
    loops="$loops $!"
    role_flag=--control-plane
else
    role_flag=
fi

# The agent needs its runtime: wait for the inner dockerd's socket to answer.
until docker version >/dev/null 2>&1; do
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        echo "mkc-node-init: dockerd exited; its log follows" >&2
        cat "$log/dockerd.log" >&2
        exit 1
    fi
    sleep 0.05
done

keep_running mkc-node-agent --kubeconfig /etc/mkc/kubelet.kubeconfig --runtime docker \
    --node-name "$MKC_NODE_NAME" --node-ip "$MKC_NODE_IP" $role_flag \
    --route-pods --proxy-services --cluster-dns 10.96.0.10 \
    --tls-cert-file /etc/mkc/pki/node.crt --tls-private-key-file /etc/mkc/pki/node.key \
    --client-ca-file /etc/mkc/pki/ca.crt &
loops="$loops $!"

stop() {
    # shellcheck disable=SC2086
    kill $loops 2>/dev/null || true
    pkill -TERM -x mkc-node-agent || true
    pkill -TERM -x mkc || true
    wait $loops 2>/dev/null || true
    kill -TERM "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
    exit 0
}
trap stop TERM INT
wait "$dockerd_pid" || true
echo "mkc-node-init: dockerd exited; its log follows" >&2
tail -n 50 "$log/dockerd.log" >&2
exit 1
