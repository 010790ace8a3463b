#!/bin/sh
# Writes the broker's accounts from the environment into the dynamic security plugin's
# file, which every listener of production.conf shares; docker compose runs it (service
# broker-accounts) before the broker starts, and on every `up`. The file is created on
# the first run with the admin account; the ingest's and the simulator's roles and
# accounts are set each time (a changed password takes effect at the next start)
# through a private broker on a unix socket. Device accounts (the registry's, or
# mosquitto_ctrl's) are kept (docs/security.md).
set -eu
dynsec_dir=${MOSQUITTO_DYNSEC_DIR:-/mosquitto/dynsec}
plugin=${MOSQUITTO_DYNSEC_PLUGIN:-/usr/lib/mosquitto_dynamic_security.so}
: "${INGEST_USERNAME:?}" "${INGEST_PASSWORD:?}" "${SIMULATOR_PASSWORD:?}" "${ADMIN_USERNAME:?}" "${ADMIN_PASSWORD:?}"
umask 077

# mosquitto_ctrl exits 0 whatever happened: its output tells.
file="$dynsec_dir/dynamic-security.json"
if [ ! -f "$file" ]; then
  out=$(mosquitto_ctrl dynsec init "$file" "$ADMIN_USERNAME" "$ADMIN_PASSWORD" 2>&1)
  case $out in
    *"has been created"*) ;;
    *) echo "create-accounts: mosquitto_ctrl dynsec init failed: $out" >&2; exit 1 ;;
  esac
fi

work=$(mktemp -d)
cat > "$work/broker.conf" <<CONF
listener 0 $work/socket
allow_anonymous false
plugin $plugin
plugin_opt_config_file $file
user $(id -un)
CONF
# mosquitto_rr reads these options from \$XDG_CONFIG_HOME/mosquitto_rr, not the command line.
printf -- '-u %s\n-P %s\n' "$ADMIN_USERNAME" "$ADMIN_PASSWORD" > "$work/mosquitto_rr"
mosquitto -c "$work/broker.conf" 2>"$work/broker.log" &
broker=$!
trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT
tries=0
until [ -S "$work/socket" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ] || ! kill -0 "$broker" 2>/dev/null; then
    echo "create-accounts: the private broker did not start: $(cat "$work/broker.log")" >&2; exit 1
  fi
  sleep 0.1
done

# One dynamic security command; fails unless the plugin answered without an error,
# or with the error given as $2.
dynsec() {
  out=$(XDG_CONFIG_HOME=$work mosquitto_rr --unix "$work/socket" -W 10 -t '$CONTROL/dynamic-security/v1' \
        -e '$CONTROL/dynamic-security/v1/response' -m "{\"commands\":[$1]}" 2>&1) || true
  case $out in
    '{"responses":'*'"error":'*) [ -n "${2:-}" ] && case $out in *"\"error\":\"$2\""*) return 0 ;; esac ;;
    '{"responses":'*) return 0 ;;
  esac
  echo "create-accounts: dynamic security command failed (is ADMIN_PASSWORD the admin's?): $out" >&2
  exit 1
}

# The ingest reads every device's telemetry and status (also through
# $share/NAME/devices/+/..., for `ingest --shared-group`: the plugin of 2.0 checks a
# shared subscription with its $share prefix) and publishes nothing. Its
# members connect with client ids of their own (on 1884), so its account is bound to none.
dynsec "{\"command\":\"createRole\",\"rolename\":\"ingest\",\"acls\":[\
{\"acltype\":\"subscribePattern\",\"topic\":\"devices/+/telemetry\",\"allow\":true},\
{\"acltype\":\"subscribePattern\",\"topic\":\"devices/+/status\",\"allow\":true},\
{\"acltype\":\"subscribePattern\",\"topic\":\"\$share/+/devices/+/telemetry\",\"allow\":true},\
{\"acltype\":\"subscribePattern\",\"topic\":\"\$share/+/devices/+/status\",\"allow\":true}]}" "Role already exists"
dynsec "{\"command\":\"createClient\",\"username\":\"$INGEST_USERNAME\",\"password\":\"$INGEST_PASSWORD\",\"roles\":[{\"rolename\":\"ingest\"}]}" \
  "Client already exists"
dynsec "{\"command\":\"setClientPassword\",\"username\":\"$INGEST_USERNAME\",\"password\":\"$INGEST_PASSWORD\"}"

# The simulator plays sim-001..sim-003 and may publish as nobody else; like a device,
# it may connect under its own user name as client id only, on every listener.
acls=""
for device in sim-001 sim-002 sim-003; do
  acls="$acls${acls:+,}{\"acltype\":\"publishClientSend\",\"topic\":\"devices/$device/#\",\"allow\":true}"
done
dynsec "{\"command\":\"createRole\",\"rolename\":\"simulator\",\"acls\":[$acls]}" "Role already exists"
dynsec "{\"command\":\"createClient\",\"username\":\"simulator\",\"password\":\"$SIMULATOR_PASSWORD\",\"clientid\":\"simulator\",\"roles\":[{\"rolename\":\"simulator\"}]}" \
  "Client already exists"
dynsec "{\"command\":\"setClientId\",\"username\":\"simulator\",\"clientid\":\"simulator\"}"
dynsec "{\"command\":\"setClientPassword\",\"username\":\"simulator\",\"password\":\"$SIMULATOR_PASSWORD\"}"
clients=$(XDG_CONFIG_HOME=$work mosquitto_rr --unix "$work/socket" -W 10 -t '$CONTROL/dynamic-security/v1' \
          -e '$CONTROL/dynamic-security/v1/response' -m '{"commands":[{"command":"listClients"}]}' 2>&1)
kill "$broker"; wait "$broker" || true  # it saved every change when it was made

# The broker reads them after dropping root for the mosquitto user, and saves the dynsec file.
chown -R mosquitto:mosquitto "$dynsec_dir"
echo "broker accounts written: $file (ingest $INGEST_USERNAME, simulator), clients: $(echo "$clients" | grep -o '"totalCount":[0-9]*')"
