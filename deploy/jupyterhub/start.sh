#!/usr/bin/env bash
# One command for the course's hub, as root from the kit's folder:
#   deploy/jupyterhub/start.sh --instructor teacher --students alice bob [--publish 02_fully_connected ...]
# Prepares the machine (accounts, exchange, course, student environment; again = update) and serves
# JupyterHub on http://127.0.0.1:8000 ($DLKIT_HUB_IP, $DLKIT_HUB_PORT) until stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v configurable-http-proxy >/dev/null || npm install -g configurable-http-proxy@5.3.0
.venv/bin/python -m assignments hub-setup "$@"
cd "${DLKIT_HUB_STATE:-/srv/dlkit-hub}"
exec "$OLDPWD/.venv/bin/jupyterhub" -f "$OLDPWD/deploy/jupyterhub/jupyterhub_config.py"
