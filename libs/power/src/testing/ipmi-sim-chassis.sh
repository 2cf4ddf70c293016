#!/bin/sh
# Chassis-control program for OpenIPMI's ipmi_sim (lan.conf `chassis_control`), used by the power
# tests and the benchmark. The "host" is a dummy process whose life is the power state, so a
# power change is real: on starts it, off kills it, soft off sends it SIGTERM, reset restarts it.
#
#   ipmi-sim-chassis.sh STATE_DIR get power|boot ...   -> prints "power:1", "boot:pxe"
#   ipmi-sim-chassis.sh STATE_DIR set power 1|0 | shutdown 1 | reset 1 | boot DEV ...
#
# Flags a test drops into STATE_DIR:
#   lie          accept every change (ipmi_sim answers success) and do nothing
#   ignore-soft  the "OS" ignores soft off (ACPI), as a hung or misconfigured OS does
D=$1
shift
PIDF="$D/host.pid"

alive() {
  [ -f "$PIDF" ] || return 1
  p=$(cat "$PIDF")
  [ -n "$p" ] || return 1
  # A killed child lingers as a zombie until reaped: count it as gone.
  st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != "Z" ] && [ "$st" != "X" ]
}

start_host() {
  alive && return 0
  # Detached from ipmi_sim's pipes, so ipmi_sim does not wait for it.
  sleep 2147483647 </dev/null >/dev/null 2>&1 &
  echo $! > "$PIDF"
}

stop_host() {
  alive && kill "-$1" "$(cat "$PIDF")" 2>/dev/null
  [ "$1" = KILL ] && rm -f "$PIDF"
  return 0
}

cmd=$1
shift
case "$cmd" in
get)
  for what in "$@"; do
    case "$what" in
    power) if alive; then echo "power:1"; else echo "power:0"; fi ;;
    boot) echo "boot:$(cat "$D/boot" 2>/dev/null || echo default)" ;;
    esac
  done
  ;;
set)
  while [ $# -ge 2 ]; do
    what=$1 val=$2
    shift 2
    [ -f "$D/lie" ] && [ "$what" != boot ] && continue
    case "$what" in
    power) if [ "$val" = 1 ]; then start_host; else stop_host KILL; fi ;;
    shutdown) [ -f "$D/ignore-soft" ] || stop_host TERM ;;
    reset) stop_host KILL; start_host ;;
    boot) echo "$val" > "$D/boot" ;;
    esac
    echo "$(date +%s%3N) $what $val" >> "$D/changes.log"
  done
  ;;
esac
exit 0
