#!/bin/sh
# build-cluster.sh builds the binaries of agentctl's end-to-end test cluster
# (kube-apiserver, upstream kubectl and etcd, at the versions that
# testdata/cluster and testdata/etcd require) into
# ${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}. What is there is not
# built again. testbin.sh does the work; see there.
exec bash "$(dirname "$0")/testbin.sh" k8s etcd
