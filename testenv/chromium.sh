#!/usr/bin/env bash
# testenv/chromium.sh install|path
#
# The headless browser of the monitor UI's browser tests (cluster/internal/ui, internal/e2e): Debian's
# `chromium` package, driven from Go with chromedp.
#
#   testenv/chromium.sh install   install chromium with apt-get when it is missing (as root, or
#                                 through sudo); prints its path and version
#   testenv/chromium.sh path      print the path of the browser; non-zero when there is none
#
# Env: GALE_CHROMIUM   a browser to use instead of the one on PATH (the tests read it too).
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
BACKEND=chromium
CACHE_DIR=$GALE_TESTENV_CACHE/chromium
PACKAGES=(chromium)

# chromium_path: the browser the tests would use (GALE_CHROMIUM, else chromium or
# chromium-browser on PATH); fails when there is none.
chromium_path() {
    local c
    if [[ -n "${GALE_CHROMIUM:-}" ]]; then
        [[ -x "$GALE_CHROMIUM" ]] || return 1
        echo "$GALE_CHROMIUM"
        return 0
    fi
    for c in chromium chromium-browser; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

# as_root CMD...: run CMD as root: directly when root, else through sudo.
as_root() {
    if (( EUID == 0 )); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@" || die "installing chromium needs root and 'sudo -n' failed; run as root:  apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
    else
        die "chromium is not installed and installing needs root (no sudo here); run as root:  apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
    fi
}

install_chromium() {
    local p
    if p=$(chromium_path); then
        log "chromium already installed: $p ($("$p" --version 2>/dev/null || echo 'version unknown'))"
        echo "$p"
        return 0
    fi
    [[ -z "${GALE_CHROMIUM:-}" ]] || die "GALE_CHROMIUM=$GALE_CHROMIUM is not an executable file"
    need_cmd apt-get "this script installs Debian's chromium with apt; install a Chromium yourself and set GALE_CHROMIUM to its path"
    mkdir -p "$CACHE_DIR"
    local t0 apt_log=$CACHE_DIR/apt.log
    t0=$(date +%s)
    log "installing ${PACKAGES[*]} with apt (first run only; log: $apt_log)"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update >"$apt_log" 2>&1; then
        tail -n 15 "$apt_log" >&2
        die "apt-get update failed (are Debian's mirrors reachable?); full log: $apt_log"
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$apt_log" 2>&1; then
        tail -n 15 "$apt_log" >&2
        die "apt-get install ${PACKAGES[*]} failed; full log: $apt_log"
    fi
    p=$(chromium_path) || die "apt installed ${PACKAGES[*]} but neither chromium nor chromium-browser is on PATH"
    log "installed $("$p" --version 2>/dev/null || echo chromium) at $p in $(( $(date +%s) - t0 ))s"
    echo "$p"
}

case "${1:-}" in
    install) install_chromium ;;
    path) chromium_path || die "no chromium: run testenv/chromium.sh install, or set GALE_CHROMIUM" ;;
    *)
        sed -n '2,/^set /{/^#/{s/^# \{0,1\}//;p}}' "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac
