# Sourced by scripts/demo and scripts/test: make .venv and install thespsys.
# THESPSYS_VENV overrides where the virtual environment lives.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${THESPSYS_VENV:-$root/.venv}"
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating a virtual environment in $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.thespsys-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ "$root/setup.py" -nt "$stamp" ]; then
  echo "Installing thespsys${extras:+[$extras]} into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -e "$root${extras:+[$extras]}"
  touch "$stamp"
fi
cd "$root"
