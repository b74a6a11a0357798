#!/usr/bin/env bash
# Installs, once, the tools the tests need, into .tools/ (gitignored) so reruns are fast.
# Sourced by scripts/test.sh.

TANKSIM_TOOLS="${TANKSIM_TOOLS:-$PWD/.tools}"
export TANKSIM_TOOLS

# A Python virtualenv with the independent reference implementations the tests compare
# against (python-control, numpy, scipy).
ensure_python_tools() {
    local venv="$TANKSIM_TOOLS/venv"
    local stamp="$venv/.installed-v1"
    if [ ! -f "$stamp" ]; then
        echo "== installing Python test tools into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "control==0.10.2" "numpy>=2,<3" "scipy>=1.13,<2"
        touch "$stamp"
    fi
    export TANKSIM_PYTHON="$venv/bin/python"
}
