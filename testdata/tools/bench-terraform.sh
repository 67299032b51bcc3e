#!/bin/sh
# bench-terraform.sh compares `agentctl terraform plan` with a raw
# `terraform plan` on the same configuration (testdata/terraform/fleet with
# 20 instances, applied first so that the plan refreshes them) and prints
# the median of each and their ratio. Uses hyperfine when installed, else a
# loop of RUNS runs per command and the median.
#
# Needs terraform v1.5.7 and the testcloud provider from
# build-terraform.sh. Usage: bench-terraform.sh [RUNS]   (default 15)
set -eu

runs=${1:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
"$root/testdata/tools/build-terraform.sh" terraform testcloud >/dev/null
tf="$cache/terraform-v1.5.7/terraform"
provider=$(ls "$cache"/testcloud-*/terraform-provider-testcloud | head -n 1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$work/agentctl" ./cmd/agentctl)

mirror="$work/mirror/agentctl.test/agentctl/testcloud/0.1.0/$(go env GOOS)_$(go env GOARCH)"
# A copy: the sandboxed plan may read the mirror, not the cache.
mkdir -p "$mirror"
cp "$provider" "$mirror/terraform-provider-testcloud"
cat > "$work/terraform.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["agentctl.test/*/*"]
  }
}
RC
cp -r "$root/testdata/terraform/fleet" "$work/config"
# The cloud lives in the working directory, which a sandboxed plan may read.
mkdir -p "$work/config/.testcloud"
export TF_CLI_CONFIG_FILE="$work/terraform.rc" TF_VAR_cloud_dir="$work/config/.testcloud" \
	TF_VAR_instances=20 CHECKPOINT_DISABLE=1 \
	AGENTCTL_TERRAFORM="$tf" AGENTCTL_AUDIT_LOG="$work/audit.jsonl" AGENTCTL_NON_INTERACTIVE=1
cd "$work/config"
"$tf" init -input=false >/dev/null
"$tf" apply -input=false -auto-approve >/dev/null

raw="$tf plan -input=false -no-color"
wrapped="$work/agentctl terraform plan -input=false -no-color"
$wrapped >/dev/null # fail early if agentctl refuses

if command -v hyperfine >/dev/null 2>&1; then
	# "start" is agentctl starting and exiting with nothing to do: the
	# least any agentctl command adds to the command it runs.
	hyperfine --warmup 2 --runs "$runs" --export-json "$work/h.json" -n raw "$raw" -n agentctl "$wrapped" \
		-n start "$work/agentctl --help" >&2
	python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"terraform plan median:          {r['raw']*1000:.0f} ms")
print(f"agentctl terraform plan median: {r['agentctl']*1000:.0f} ms")
print(f"ratio: {r['agentctl']/r['raw']:.3f}x")
print(f"agentctl start alone (--help):  {r['start']*1000:.1f} ms, so no agentctl command can be under {(r['raw']+r['start'])/r['raw']:.3f}x here")
PY
	exit 0
fi

# median of $runs runs of "$@", in milliseconds
median() {
	i=0
	while [ $i -lt "$runs" ]; do
		s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
		echo $(( (e - s) / 1000000 ))
		i=$((i + 1))
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
$raw >/dev/null; $wrapped >/dev/null
r=$(median $raw)
w=$(median $wrapped)
echo "terraform plan median:          $r ms"
echo "agentctl terraform plan median: $w ms"
awk -v r="$r" -v w="$w" 'BEGIN {printf "ratio: %.3fx\n", w / r}'
