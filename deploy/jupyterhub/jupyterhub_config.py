"""JupyterHub for the course on one machine (see README, "A JupyterHub course").

Prepared by `python -m assignments hub-setup`, whose record `$DLKIT_HUB_STATE/hub.json` (default
/srv/dlkit-hub) says who teaches, who studies and where the two environments are. Local
accounts log in with their system password (PAM); the instructor's server runs in the kit's
environment (formgrader), the students' in the student environment (bounded kernels, no kit).
"""
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

state = Path(os.environ.get("DLKIT_HUB_STATE", "/srv/dlkit-hub"))
hub = json.loads((state / "hub.json").read_text())

c.JupyterHub.ip = os.environ.get("DLKIT_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("DLKIT_HUB_PORT", "8000"))
c.JupyterHub.hub_port = int(os.environ.get("DLKIT_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('DLKIT_PROXY_API_PORT', '8001')}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

c.JupyterHub.authenticator_class = "pam"  # a real course: e.g. ltiauthenticator.LTIAuthenticator
c.Authenticator.allowed_users = {hub["instructor"], *hub["students"]}
c.Authenticator.admin_users = {hub["instructor"]}

c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
# Every server, and so every kernel, starts with one BLAS thread per library (the students'
# kernelspec sets it too, with its memory limit; see assignments/instructor/hub.py).
c.Spawner.environment = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def choose_environment(spawner):
    """The instructor's server in the environment with the kit, a student's in the student environment."""
    env = hub["instructor_env"] if spawner.user.name == hub["instructor"] else hub["student_env"]
    spawner.cmd = [f"{env}/bin/python", "-m", "jupyterhub.singleuser"]
    spawner.environment = {**spawner.environment, "PATH": f"{env}/bin:/usr/local/bin:/usr/bin:/bin",
                           "JUPYTER_CONFIG_PATH": hub["config_dir"]}  # nbgrader's exchange and course id
    spawner.notebook_dir = hub["course_dir"] if spawner.user.name == hub["instructor"] else "~"


c.Spawner.pre_spawn_hook = choose_environment
