#!/bin/sh
# Forms the Redis Cluster of compose.cluster.yml once, then waits until it serves every slot.
# Usage: redis-cluster-init.sh REPLICAS host:port...
# Run again on a cluster that already exists (every `up`), it creates nothing: it only waits.
# It exits 0 once every node reports cluster_state:ok and every replica has synced, so that
# streamfeed, which refuses to start on a cluster in any other state, starts after it.
set -eu

replicas=$1
shift

field() { # field NODE NAME: one field of the node's CLUSTER INFO
  redis-cli -h "${1%:*}" -p "${1##*:}" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

wait_for() { # wait_for WHAT SECONDS COMMAND...: retries COMMAND each second
  what=$1 tries=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
      echo "redis-cluster-init: gave up waiting for $what" >&2
      return 1
    fi
    sleep 1
  done
}

for node in "$@"; do
  wait_for "$node to answer PING" 60 redis-cli -h "${node%:*}" -p "${node##*:}" ping
done

# A node that knows no other node and owns no slot is empty. Empty nodes all: a new cluster.
# None: it exists (its nodes.conf files were kept). Some: a node lost its data volume, which
# needs a person (redis-cli --cluster add-node, or CLUSTER FORGET), not a second cluster.
empty=0
for node in "$@"; do
  if [ "$(field "$node" cluster_known_nodes)" = 1 ] &&
    [ "$(field "$node" cluster_slots_assigned)" = 0 ]; then
    empty=$((empty + 1))
  fi
done
if [ "$empty" = "$#" ]; then
  echo "redis-cluster-init: creating a cluster of $# nodes, $replicas replica(s) per master"
  redis-cli --cluster create "$@" --cluster-replicas "$replicas" --cluster-yes
elif [ "$empty" = 0 ]; then
  echo "redis-cluster-init: the cluster exists, nothing to create"
else
  echo "redis-cluster-init: $empty of $# nodes are empty while the others form a cluster;" \
    "add them by hand (redis-cli --cluster add-node) or remove the cluster's volumes" >&2
  exit 1
fi

replication() { # replication NODE NAME: one field of the node's INFO replication
  redis-cli -h "${1%:*}" -p "${1##*:}" info replication | tr -d '\r' | sed -n "s/^$2://p"
}

# A replica that has not synced with its master since it started cannot take over from it
# ("Disconnected from master for longer than allowed"): so done means each one has synced.
cluster_ok() {
  for node in "$@"; do
    [ "$(field "$node" cluster_state)" = ok ] || return 1
    if [ "$(replication "$node" role)" = slave ]; then
      [ "$(replication "$node" master_link_status)" = up ] || return 1
    fi
  done
}
wait_for "cluster_state:ok on every node and every replica in sync" 60 cluster_ok "$@"
echo "redis-cluster-init: cluster_state:ok on all $# nodes, every replica in sync"
