#!/usr/bin/env python3
"""Simulated devices publishing telemetry over MQTT: one device, or a fleet from one process.

    python simulator/simulator.py                                  # device-001, one reading a second
    python simulator/simulator.py --devices 3                      # device-001 .. device-003
    python simulator/simulator.py --device-id lab --devices 1000 --single-connection

See docs/simulator.md for every option.
"""
import argparse
import json
import logging
import os
import random
import resource
import signal
import sys
import time

from fleet_schedule import FleetSchedule, Silence
from http_sender import HttpRefused, HttpSender
from mqtt_pool import BUFFERED, LOST, SENT, BrokerSettings, ClientPool, StartError
from readings import DEVICE_ID_PATTERN, SimulatedDevice, fleet_device_ids

log = logging.getLogger("simulator")

BUFFER_PER_DEVICE = 1000  # readings a device keeps while disconnected
SHARED_BUFFER_MAX = 60_000  # MQTT packet ids are 16-bit: one client cannot hold 65,535
SHARED_INFLIGHT = 100  # unacked publishes on a shared connection (paho is fastest near 100)
# Further behind schedule than this (a suspended process, a sleeping laptop), the
# fleet skips ahead instead of bursting every missed reading at once.
SKIP_AHEAD_SECONDS = 10.0
MAX_SLOTS_PER_PASS = 2000  # bound one burst of publishing so the sockets are serviced
DRAIN_SECONDS = 10.0  # at a natural end, time allowed for the last acknowledgements
DRAIN_SECONDS_ON_SIGNAL = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of docs/contract.md ("Commands"), plus scenario switches."""
    parser = argparse.ArgumentParser(
        prog="simulator.py",
        description="Publish simulated telemetry to devices/{deviceId}/telemetry over MQTT.",
    )
    parser.add_argument("--device-id", help="device id (default device-001); with --devices, the fleet's prefix "
                        "(default device): PREFIX-001 .. PREFIX-N")
    parser.add_argument("--devices", type=int, help="simulate a fleet of N devices from this process")
    parser.add_argument("--single-connection", action="store_true",
                        help="share one MQTT connection for the whole fleet (default: one per device)")
    parser.add_argument("--connections", type=int, metavar="N",
                        help="spread the fleet over N shared MQTT connections, as N gateways would "
                             "(device i on connection i mod N; default: one per device)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a device's readings (default 1.0)")
    parser.add_argument("--drop-rate", type=int, default=30, metavar="N",
                        help="lose 1 in N messages at random, counted but not sent (default 30, 0 = none)")
    parser.add_argument("--count", type=int, metavar="N",
                        help="stop after N messages per device (dropped ones included)")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--host", default=os.environ.get("MQTT_HOST", "localhost"),
                        help="broker host (default $MQTT_HOST or localhost)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MQTT_PORT", "1883")),
                        help="broker port (default $MQTT_PORT or 1883)")
    parser.add_argument("--qos", type=int, default=1, choices=(0, 1, 2), help="MQTT QoS (default 1)")
    parser.add_argument("--username", default=os.environ.get("MQTT_USERNAME") or None,
                        help="broker username (default $MQTT_USERNAME)")
    parser.add_argument("--password", default=os.environ.get("MQTT_PASSWORD") or None,
                        help="broker password (default $MQTT_PASSWORD; prefer it to the command line, "
                             "where other users can read it)")
    parser.add_argument("--tls", action="store_true", default=os.environ.get("MQTT_TLS", "").lower() in ("1", "true"),
                        help="connect over TLS, checking the broker's certificate (default $MQTT_TLS)")
    parser.add_argument("--ca-file", default=os.environ.get("MQTT_CA_FILE") or None,
                        help="with --tls: the CA certificate (PEM) to trust (default $MQTT_CA_FILE, else the system's)")
    parser.add_argument("--transport", choices=("tcp", "websockets"), default="tcp",
                        help="MQTT over TCP (default) or over WebSockets")
    parser.add_argument("--http", metavar="URL",
                        help="send over HTTP to POST URL/api/devices/{id}/telemetry/ instead of MQTT")
    parser.add_argument("--api-key", default=os.environ.get("DEVICE_API_KEY") or None,
                        help="with --http: the X-API-Key header (default $DEVICE_API_KEY)")
    parser.add_argument("--batch", type=int, default=1, metavar="N",
                        help="with --http: readings per request, sent as a JSON array when N > 1 (default 1)")
    parser.add_argument("--seed", type=int, help="make readings and drops repeatable (default: random, printed)")
    parser.add_argument("--heat", action="store_true", help="keep every device's temperature above 30 °C")
    parser.add_argument("--silent-after", type=float, metavar="S", help="go silent S seconds after the start ...")
    parser.add_argument("--silent-for", type=float, metavar="S", help="... for S seconds, then publish again")
    parser.add_argument("--summary-seconds", type=float, default=5.0,
                        help="seconds between a fleet's summary lines (default 5)")
    parser.add_argument("--no-will", action="store_true",
                        help="do not publish `online` to devices/{id}/status at connect nor leave a last will of "
                             "`offline` there (a fleet on shared connections never does: a connection has one will)")
    parser.add_argument("--keepalive", type=int, default=60,
                        help="MQTT keepalive in seconds; the broker notices a dead connection after 1.5 times it "
                             "(default 60)")
    parser.add_argument("--connect-retries", type=int, default=5,
                        help="retries when the broker is unreachable at start, before giving up (default 5)")
    args = parser.parse_args(argv)

    if args.devices is not None and args.devices < 1:
        parser.error("--devices must be at least 1")
    if args.connections is not None:
        if args.connections < 1 or args.connections > (args.devices or 1):
            parser.error("--connections must be between 1 and the number of devices")
        if args.single_connection and args.connections != 1:
            parser.error("--single-connection is --connections 1")
        if args.http:
            parser.error("--connections is for MQTT, not --http")
    if args.interval < 0.001:
        parser.error("--interval must be at least 0.001 s (readings of a device need distinct ms timestamps)")
    if args.keepalive < 1:
        parser.error("--keepalive must be at least 1 s")
    if args.drop_rate < 0:
        parser.error("--drop-rate must be 0 (none) or a positive N")
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be positive")
    if (args.silent_after is None) != (args.silent_for is None):
        parser.error("--silent-after and --silent-for go together")
    if args.silent_after is not None and (args.silent_after < 0 or args.silent_for <= 0):
        parser.error("--silent-after must be >= 0 and --silent-for > 0")
    if args.summary_seconds <= 0 or args.connect_retries < 0:
        parser.error("--summary-seconds must be positive and --connect-retries not negative")
    if args.password and not args.username:
        parser.error("--password needs --username")
    if args.ca_file and not args.tls:
        parser.error("--ca-file goes with --tls")
    if args.ca_file and not os.path.isfile(args.ca_file):
        parser.error(f"--ca-file {args.ca_file}: no such file")
    if args.http and not args.api_key:
        parser.error("--http needs --api-key (or $DEVICE_API_KEY)")
    if args.http and not args.http.startswith(("http://", "https://")):
        parser.error("--http must be an http:// or https:// URL")
    if args.batch < 1 or (args.batch > 1 and not args.http):
        parser.error("--batch must be at least 1, and goes with --http")
    for device_id in device_ids(args):
        if not DEVICE_ID_PATTERN.fullmatch(device_id):
            parser.error(f"invalid device id {device_id!r}: letters, digits, '.', '_' or '-', at most 64")
    return args


def device_ids(args: argparse.Namespace) -> list[str]:
    """One device named by --device-id, or a fleet PREFIX-001 .. PREFIX-N."""
    if args.devices is None:
        return [args.device_id or "device-001"]
    return fleet_device_ids(args.device_id or "device", args.devices)


class _OutputHandler(logging.StreamHandler):
    """Log lines to stdout; if whoever reads them goes away (`| head`), stop instead of erroring."""

    def __init__(self, on_closed) -> None:
        super().__init__(sys.stdout)
        self.on_closed = on_closed

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self.on_closed()
            return
        super().handleError(record)


def _raise_open_file_limit(needed: int) -> None:
    """One connection per device needs a descriptor each: lift the soft limit if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Simulation:
    """Publishes each device's readings on schedule until a count, a duration or a signal ends it."""

    def __init__(self, args: argparse.Namespace, pool: ClientPool, devices: list[SimulatedDevice]) -> None:
        self.args = args
        self.pool = pool
        self.devices = devices
        self.single = len(devices) == 1
        silence = Silence(args.silent_after, args.silent_for) if args.silent_after is not None else None
        self.schedule = FleetSchedule(len(devices), args.interval, silence)
        self.stop_reason: str | None = None
        self.signals = 0
        self.meant = self.dropped = self.lost = self.skipped = 0
        self.devices_done = 0
        self.next_slot = 0
        self.silent = False
        self.started = 0.0
        self.base_ms = 0
        self.max_lag = 0.0
        self._report_at = 0.0
        self._report_acked = 0
        self._report_time = 0.0

    def request_stop(self, signum: int, frame=None) -> None:
        """Signal handler: finish cleanly; a second signal also skips waiting for acknowledgements."""
        self.signals += 1
        reason = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}.get(signum, "output closed")
        self.stop_reason = self.stop_reason or reason

    def run(self) -> int:
        """Publish until done; return the exit code."""
        now = time.monotonic()
        self.started, self.base_ms = now, int(time.time() * 1000)
        self._report_at, self._report_time = now + self.args.summary_seconds, now
        while self.stop_reason is None:
            now = time.monotonic()
            elapsed = now - self.started
            if self.args.duration is not None and elapsed >= self.args.duration:
                self.stop_reason = "duration reached"
                break
            self._publish_due(elapsed)
            if self.devices_done == len(self.devices):
                self.stop_reason = "count reached"
                break
            if now >= self._report_at and not self.single:
                self._report(now)
            wait = self.schedule.offset(self.next_slot) - (time.monotonic() - self.started)
            if self.args.duration is not None:
                wait = min(wait, self.args.duration - (time.monotonic() - self.started))
            self.pool.poll(min(max(wait, 0.0), 0.1))
        natural = self.stop_reason in ("duration reached", "count reached")
        # Only QoS 1/2 publishes are acknowledged; QoS 0 ones are done once written.
        drain = (DRAIN_SECONDS if natural else DRAIN_SECONDS_ON_SIGNAL) if self.args.qos > 0 else 0.0
        self.pool.close(drain_seconds=drain, should_hurry=lambda: self.signals > 1)
        self._final_summary()
        if natural and self.args.qos > 0 and self.pool.pending:
            print(f"error: {self.pool.pending} messages were not acknowledged by the broker", file=sys.stderr)
            return 1
        return 0

    def _publish_due(self, elapsed: float) -> None:
        due = self.schedule.slots_before(elapsed)
        if due - self.next_slot > SKIP_AHEAD_SECONDS / self.schedule.step:
            skip_to = due - 1
            self.skipped += skip_to - self.next_slot
            log.warning("Fell %.1f s behind schedule (was the process suspended?); skipping %d readings",
                        elapsed - self.schedule.offset(self.next_slot), skip_to - self.next_slot)
            self.next_slot = skip_to
        end = min(due, self.next_slot + MAX_SLOTS_PER_PASS)
        while self.next_slot < end:
            slot = self.next_slot
            audible = self.schedule.audible(slot)
            if audible != slot:
                if not self.silent:
                    self.silent = True
                    log.info("Going silent for %.1f s (--silent-after %g --silent-for %g)",
                             self.args.silent_for, self.args.silent_after, self.args.silent_for)
                self.next_slot = audible
                return
            self.next_slot += 1
            device = self.devices[self.schedule.device(slot)]
            if self.args.count is not None and device.meant >= self.args.count:
                continue
            if self.silent:
                self.silent = False
                log.info("Silence over: publishing again")
            self._send(slot, device)
        self.max_lag = max(self.max_lag, elapsed - self.schedule.offset(self.next_slot))

    def _send(self, slot: int, device: SimulatedDevice) -> None:
        payload, dropped = device.next_message(self.base_ms + self.schedule.ts_offset_ms(slot))
        self.meant += 1
        if self.args.count is not None and device.meant == self.args.count:
            self.devices_done += 1
        body = json.dumps(payload)
        if dropped:
            self.dropped += 1
            if self.single:
                log.info("Dropped (simulated loss): %s", body)
            return
        # Device i goes out on link i mod links: its own, one of a few shared ones, or the only one.
        link = self.schedule.device(slot) % len(self.pool.links)
        outcome = self.pool.publish(link, device.topic, body, self.args.qos)
        if outcome == LOST:
            self.lost += 1
        if self.single:
            label = {SENT: "Published", BUFFERED: "Buffered (not connected)", LOST: "Lost (not connected)"}[outcome]
            log.info("%s: %s", label, body)

    def _report(self, now: float) -> None:
        rate = (self.pool.acked - self._report_acked) / (now - self._report_time)
        log.info(
            "%d/%d connected | published %d (%.1f msg/s) | dropped %d | pending %d | lost %d | reconnects %d | lag %.2f s",
            self.pool.connected, len(self.pool.links), self.pool.acked, rate, self.dropped, self.pool.pending,
            self.lost, self.pool.reconnects, max(self.max_lag, 0.0),
        )
        self._report_acked, self._report_time = self.pool.acked, now
        self._report_at = now + self.args.summary_seconds
        self.max_lag = 0.0

    def _final_summary(self) -> None:
        took = time.monotonic() - self.started
        extra = f", skipped {self.skipped}" if self.skipped else ""
        log.info(
            "Stopped (%s) after %.1f s: %d device%s, meant %d, published %d, dropped %d, unsent %d, "
            "reconnects %d%s",
            self.stop_reason, took, len(self.devices), "" if self.single else "s", self.meant, self.pool.acked,
            self.dropped, self.lost + self.pool.pending, self.pool.reconnects, extra,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; returns the process exit code."""
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    ids = device_ids(args)
    devices = [SimulatedDevice(device_id, seed=seed, heat=args.heat, drop_rate=args.drop_rate) for device_id in ids]
    pid = os.getpid()
    shared_links = 1 if args.single_connection or len(ids) == 1 else args.connections
    if shared_links is not None:
        if len(ids) == 1:
            client_ids = [f"{ids[0]}-{pid}"]
            status_topics = [None if args.no_will else f"devices/{ids[0]}/status"]
        else:
            # Gateways: a connection has one will, so none speaks for its devices' status.
            client_ids = [f"simulator-{pid}"] if shared_links == 1 else [
                f"simulator-{pid}-{n}" for n in range(1, shared_links + 1)]
            status_topics = [None] * shared_links
        buffered = min(SHARED_BUFFER_MAX, BUFFER_PER_DEVICE * -(-len(ids) // shared_links))
        pool_options = {"max_inflight": SHARED_INFLIGHT, "max_buffered": buffered}
    else:
        # Each device is its own client, as it would be in the field; the pid keeps two
        # simulators of the same device from taking each other's session over.
        client_ids = [f"{device_id}-{pid}" for device_id in ids]
        status_topics = [None if args.no_will else f"devices/{device_id}/status" for device_id in ids]
        pool_options = {"max_buffered": BUFFER_PER_DEVICE}
        _raise_open_file_limit(len(ids) + 256)
    settings = BrokerSettings(host=args.host, port=args.port, username=args.username, password=args.password,
                              tls=args.tls, ca_file=args.ca_file, transport=args.transport,
                              keepalive=args.keepalive)
    pool = HttpSender(args.http, args.api_key, batch=args.batch) if args.http else ClientPool(
        settings, client_ids, status_topics=status_topics, **pool_options)
    address = pool.address if args.http else settings.address
    simulation = Simulation(args, pool, devices)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, simulation.request_stop)
    handler = _OutputHandler(on_closed=lambda: simulation.request_stop(signal.SIGPIPE))
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    who = ids[0] if len(ids) == 1 else f"{len(ids)} devices {ids[0]} .. {ids[-1]}"
    links = "1 connection" if len(client_ids) == 1 else f"{len(client_ids)} connections"
    drops = f"drop 1 in {args.drop_rate}" if args.drop_rate else "no drops"
    if args.http:
        links = f"HTTP, {args.batch} reading{'s' if args.batch > 1 else ''} a request"
    log.info("Simulating %s -> %s (%s), every %g s, %s, QoS %d, seed %d",
             who, address, links, args.interval, drops, args.qos, seed)
    try:
        if not pool.connect(retries=args.connect_retries, should_stop=lambda: simulation.stop_reason is not None):
            log.info("Stopped (%s) before connecting", simulation.stop_reason)
            return 0
    except StartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.http:
        log.info("Connected to the MQTT broker at %s", settings.address)
    try:
        return simulation.run()
    except HttpRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
