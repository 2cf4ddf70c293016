#!/usr/bin/env bash
# lab-down.sh PREFIX: stops every process in the lab's namespaces and deletes them.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
lab_down "${1:?usage: lab-down.sh PREFIX}"
