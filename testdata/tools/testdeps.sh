#!/usr/bin/env bash
# testdeps.sh makes sure the system tools that `make test` needs are
# there, before anything slow starts, so that no test fails or skips half
# way through for a missing tool:
#
#   go                 everything (the version go.mod names)
#   git                the version stamped into the build
#   rsyslogd           the audit log's syslog sink (pkg/audit), package rsyslog
#   tmux               the terminal approval tests (pkg/e2e), package tmux
#   script             pty tests (pkg/e2e), package bsdutils
#   flock, setsid      testbin.sh, package util-linux
#   mount, umount      sandbox tests, package mount
#   node, npm          the npm test tools (testbin.sh npm: the MCP Inspector),
#                      packages nodejs, npm
#   chromium           the web approval page's browser tests (pkg/e2e,
#                      headless, with a virtual passkey), package chromium
#
# As root with apt-get (CI, a fresh container) it installs the missing
# packages; otherwise it fails at once with one line naming what to
# install. Usage: testdeps.sh [WHO]   (WHO: the prefix of that line,
# default "make test")
set -euo pipefail
who=${1:-make test}

# command:package, in the order the message names them.
wants=(rsyslogd:rsyslog tmux:tmux script:bsdutils flock:util-linux setsid:util-linux
	mount:mount umount:mount git:git strace:strace unshare:util-linux node:nodejs npm:npm chromium:chromium)

missing=() pkgs=()
for w in "${wants[@]}"; do
	cmd=${w%%:*} pkg=${w#*:}
	# rsyslogd lives in sbin, which an ordinary user's PATH may lack.
	if ! PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1; then
		missing+=("$cmd")
		[[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
	fi
done

if ! command -v go >/dev/null 2>&1; then
	echo "$who: missing go: install Go $(sed -n 's/^go //p' "$(dirname "$0")/../../go.mod") or later" >&2
	exit 1
fi
if ((${#missing[@]} == 0)); then
	exit 0
fi

list=$(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "$who: installing ${pkgs[*]} (for $list) with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; then
		exit 0
	fi
	echo "$who: apt-get install ${pkgs[*]} failed" >&2
	exit 1
fi
echo "$who: missing $list: install them (apt-get install ${pkgs[*]})" >&2
exit 1
