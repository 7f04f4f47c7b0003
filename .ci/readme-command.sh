#!/usr/bin/env bash
# Prints the README's command marked <!-- readme:NAME --> (the line after its ```sh), so
# that CI runs exactly what a reader copies.
set -euo pipefail
name="$1"
readme="$(dirname "$0")/../README.md"
command="$(awk -v mark="<!-- readme:${name} -->" '$0 == mark { found = 1; next } found && /^```sh$/ { getline; print; exit }' "$readme")"
[[ -n "$command" ]] || { echo "README.md has no command marked readme:${name}" >&2; exit 1; }
printf '%s\n' "$command"
