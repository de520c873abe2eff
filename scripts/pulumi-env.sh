# Source me (bash/zsh): `source scripts/pulumi-env.sh`. Puts the pinned Pulumi CLI first on PATH and makes it
# work offline against a local file:// backend. Run scripts/pulumi-cli once first to fill .tools/bin.
# Values already set in the environment win, except PATH (ours goes first) and the offline switches.
_pulumi_repo=$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)
case ":$PATH:" in
  *":$_pulumi_repo/.tools/bin:"*) ;;
  *) export PATH="$_pulumi_repo/.tools/bin:$PATH" ;;
esac
# Never download anything: no update check, no plugin downloads, no version nagging from the Automation API.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# A throwaway passphrase for local state only; set your own for anything that matters.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-pulumi-enkrypt-local}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_pulumi_repo/.state}"
# The program, the language host and the dynamic-provider plugin all run with the project's venv.
export PULUMI_PYTHON_CMD="${PULUMI_PYTHON_CMD:-$_pulumi_repo/.venv/bin/python}"
mkdir -p "$_pulumi_repo/.state"
unset _pulumi_repo
