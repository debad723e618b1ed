# Sourced by the deploy scripts: podman as this project runs it.
#
# Two settings keep podman working on hosts like ours (Debian 12, hybrid cgroups): crun fails there with
# "setrlimit RLIMIT_NOFILE", runc does not; and the default ulimits must not exceed what the kernel allows
# (nofile 20000, nproc 32768 fit). They go into a containers.conf of our own, used unless CONTAINERS_CONF is set, so
# nobody has to remember them. CNN_OCI_RUNTIME chooses another runtime (crun works on most machines).
if [ -z "${CONTAINERS_CONF:-}" ]; then
    cnn_runtime=${CNN_OCI_RUNTIME:-}
    if [ -z "$cnn_runtime" ] && command -v runc > /dev/null 2>&1; then
        cnn_runtime=runc
    fi
    cnn_conf_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/artifacts/podman
    mkdir -p "$cnn_conf_dir"
    {
        echo '[containers]'
        echo 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]'
        if [ -n "$cnn_runtime" ]; then
            echo '[engine]'
            echo "runtime = \"$cnn_runtime\""
        fi
    } > "$cnn_conf_dir/containers.conf"
    export CONTAINERS_CONF="$cnn_conf_dir/containers.conf"
fi
