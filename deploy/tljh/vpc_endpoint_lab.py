# JupyterHub configuration snippet for The Littlest JupyterHub: copy to
# /opt/tljh/config/jupyterhub_config.d/vpc_endpoint_lab.py, then `sudo tljh-config reload`.
# Every learner's lab uses the class backend (deploy/tljh/vpc-endpoint-lab-class.service),
# each learner in an AWS account of their own that only their key opens.
#
# Before each learner's server starts, the hub (root on a TLJH host, so it can read the class
# backend's 0700 folder) asks the lab for that learner's variables, their key included, and
# puts them in that server's environment only. Each TLJH user is a Unix user of their own
# (jupyter-<name>); the learner is named after the hub user.
import json
import subprocess

c = get_config()  # noqa: F821 (JupyterHub defines get_config when it loads this file)

CLASS_HOME = "/var/lib/vpc-endpoint-lab-class"
USER_PYTHON = "/opt/tljh/user/bin/python"


def give_the_learner_their_key(spawner):
    name = spawner.user.name
    printed = subprocess.run(
        [USER_PYTHON, "-m", "helpers", "class-backend", "learner", name]
        + ["--home", CLASS_HOME, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    spawner.environment.update(json.loads(printed.stdout)[name])


c.Spawner.pre_spawn_hook = give_the_learner_their_key
