#!/usr/bin/env bash
# Sets up the kit on a Debian or Ubuntu machine with Python 3.11, from the kit's folder:
#   1. the system packages that grading and the tests need (installed with apt-get when run as root
#      or with password-less sudo; otherwise it says which to install, and exits 1 at the end);
#   2. the virtual environment .venv with the pinned Python packages of requirements.txt and the kit.
# Safe to run again: a few seconds when everything is there.
#   bash setup.sh            set everything up
#   bash setup.sh --check    only say what is missing (exit 1 if anything is)
set -euo pipefail
cd "$(dirname "$0")"

# a command (or an absolute path) that must exist -> the Debian package that provides it, and why
REQUIRED=(
  "bwrap bubblewrap the grading jail (assignments/jail/sandbox.py): every autograde and the demo"
  "prlimit util-linux resource limits of the grading jail"
  "setpriv util-linux the grading jail's own user id"
  "chromium chromium the browser tests (tests/test_browser.py)"
  "/usr/share/datasets/fashion-mnist dataset-fashion-mnist Fashion-MNIST offline (data_scripts/get_fashion_mnist.py and its test)"
  "/usr/bin/python3.11 python3.11 the JupyterHub course's environments (a Python every account can run)"
  "npm npm installing the JupyterHub proxy"
  "/usr/lib/postgresql/15/bin/initdb postgresql-15 the distributed-grading test's throwaway PostgreSQL server"
)
PROXY=configurable-http-proxy@5.3.0  # JupyterHub's proxy, from npm (deploy/jupyterhub/, tests/test_hub.py)

say() { printf 'setup: %s\n' "$*"; }

present() {  # a command on PATH, or an absolute path that exists
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

python_ok() {
  python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

missing_packages() {  # prints the Debian packages whose commands are missing, one per line
  local line tool package
  for line in "${REQUIRED[@]}"; do
    read -r tool package _ <<<"$line"
    present "$tool" || echo "$package"
  done
  command -v python3 >/dev/null 2>&1 && ! python_ok && echo python3-venv
  return 0
}

explain_missing() {
  local line tool package why
  for line in "${REQUIRED[@]}"; do
    read -r tool package why <<<"$line"
    present "$tool" || say "missing: $tool (Debian package $package), for $why"
  done
  command -v python3 >/dev/null 2>&1 || say "missing: python3 (3.11 or newer)"
  command -v python3 >/dev/null 2>&1 && ! python_ok && say "missing: Python 3.11 or newer with venv and ensurepip (Debian package python3-venv); python3 is $(python3 --version 2>&1)"
  return 0
}

as_root() {  # runs a command as root, or returns 1 when that is impossible
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

packages=$(missing_packages | sort -u | tr '\n' ' ')
if [ "${1:-}" = "--check" ]; then
  explain_missing
  proxy=ok
  command -v configurable-http-proxy >/dev/null 2>&1 || { proxy=; say "missing: configurable-http-proxy (npm package $PROXY), for the JupyterHub course and its tests"; }
  [ -z "$packages" ] && [ -n "$proxy" ] && [ -x .venv/bin/python ] && { say "everything is installed"; exit 0; }
  [ -x .venv/bin/python ] || say "missing: the virtual environment .venv (bash setup.sh makes it)"
  exit 1
fi

system_problem=""
if [ -n "$packages" ]; then
  explain_missing
  if command -v apt-get >/dev/null 2>&1 && as_root true; then
    say "installing $packages with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  elif command -v apt-get >/dev/null 2>&1; then
    system_problem="not root and no password-less sudo: ask an administrator to run  sudo apt-get install $packages"
  else
    system_problem="no apt-get here: install the equivalents of the Debian packages $packages with this system's package manager"
  fi
fi

if ! command -v configurable-http-proxy >/dev/null 2>&1; then
  if [ "${1:-}" != "--check" ] && command -v npm >/dev/null 2>&1 && as_root true; then
    say "installing JupyterHub's proxy $PROXY with npm"
    as_root npm install -g --silent "$PROXY" >/dev/null
  else
    say "missing: configurable-http-proxy (npm package $PROXY), for the JupyterHub course and its tests"
    system_problem="${system_problem:-not root: ask an administrator to run  sudo npm install -g $PROXY}"
  fi
fi

if ! python_ok; then
  say "cannot make the virtual environment: ${system_problem:-python3 is missing or older than 3.11}"
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "making the virtual environment .venv"
  python3 -m venv .venv
fi
# pip runs again only when requirements.txt or pyproject.toml changed since the last install
stamp=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
  say "installing the pinned Python packages (requirements.txt) and the kit into .venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/pip install -q -r requirements.txt -e .
  echo "$stamp" > .venv/.installed
fi

if [ -n "$system_problem" ]; then
  say "$system_problem"
  say "the Python side is ready, but grading and the tests need the packages above"
  exit 1
fi
say "ready: .venv/bin/python -m assignments --help"
