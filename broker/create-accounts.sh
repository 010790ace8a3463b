#!/bin/sh
# Writes the broker's password files from the environment; docker compose runs it
# (service broker-accounts) before the broker starts, and on every `up`.
#   ingest:  the ingest's account only, rewritten each time (a changed MQTT_PASSWORD
#            takes effect at the next start).
#   devices: created on the first run; the simulator's account is set each time,
#            device accounts added with mosquitto_passwd are kept (docs/security.md).
set -eu
dir=${MOSQUITTO_PASSWD_DIR:-/mosquitto/passwd}
: "${INGEST_USERNAME:?}" "${INGEST_PASSWORD:?}" "${SIMULATOR_PASSWORD:?}"
umask 077

# mosquitto_passwd reads the password twice from stdin (printf is a shell builtin):
# the passwords never appear in a process list.
printf '%s\n%s\n' "$INGEST_PASSWORD" "$INGEST_PASSWORD" \
  | mosquitto_passwd -c "$dir/ingest.new" "$INGEST_USERNAME" >/dev/null
mv "$dir/ingest.new" "$dir/ingest"

[ -f "$dir/devices" ] || : > "$dir/devices"
printf '%s\n%s\n' "$SIMULATOR_PASSWORD" "$SIMULATOR_PASSWORD" \
  | mosquitto_passwd "$dir/devices" simulator >/dev/null

# The broker reads them after dropping root for the mosquitto user.
chown -R mosquitto:mosquitto "$dir"
echo "broker accounts written: $dir/ingest (user $INGEST_USERNAME); $dir/devices, lines: $(wc -l < "$dir/devices")"
