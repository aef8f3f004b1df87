# Sourced by scripts/serve and scripts/test: a virtualenv in .venv holding exactly the pinned requirements.
# Usage: . scripts/bootstrap.sh REQUIREMENTS_FILE
set -euo pipefail
requirements="$1"
if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtualenv in .venv ..."
    python3 -m venv .venv
fi
stamp=".venv/.installed-$(basename "$requirements")"
wanted=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing $requirements ..."
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi
# shellcheck disable=SC1091
. .venv/bin/activate
