"""`manage.py ingest`: subscribe to the devices' telemetry and store it."""
import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from common.longrunning import turn_off_debug
from devices.ids import is_device_id
from telemetry.ingest.receiver import MqttReceiver, MqttSettings
from telemetry.ingest.runner import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_FLUSH_MS,
    BatchPolicy,
    IngestRunner,
)
from telemetry.ingest_metrics import IngestMetrics
from telemetry.link_status import STATUS_TOPIC
from telemetry.membership import Membership, MembershipError, claim_member_id

log = logging.getLogger("telemetry.ingest")

# PostgreSQL: while one writer's Python builds a batch, the other's is on the server
# (docs/performance.md, "The drain on PostgreSQL"); a third gained nothing on two cores.
POSTGRESQL_WRITERS = 2


class Command(BaseCommand):
    help = ("Subscribe to MQTT_TOPIC and the devices' status topic at QoS 1 and store readings and statuses "
            "in batches, acking after commit.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Write a batch at this many messages.")
        parser.add_argument("--batch-bytes", type=int, default=DEFAULT_BATCH_BYTES,
                            help="Write a batch when its payloads reach this many bytes.")
        parser.add_argument("--flush-ms", type=int, default=DEFAULT_FLUSH_MS, help="Write a batch when its first message is this old.")
        parser.add_argument("--shared-group", default="", help="Subscribe $share/NAME/<topic> to split the stream.")
        parser.add_argument("--writers", type=int, default=None,
                            help="Writer processes storing batches side by side (default: 2 on PostgreSQL, "
                                 "1 on SQLite, whose one write lock lets no second writer gain).")
        parser.add_argument("--summary-seconds", type=float, default=5.0, help="Throughput log interval.")
        parser.add_argument("--metrics-port", type=int, default=settings.INGEST_METRICS_PORT,
                            help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: off; INGEST_METRICS_PORT).")

    def handle(self, *args, batch_size, batch_bytes, flush_ms, shared_group, summary_seconds, metrics_port, writers,
               **options):
        if batch_size < 1 or batch_bytes < 1 or flush_ms < 1 or summary_seconds <= 0:
            raise CommandError("--batch-size, --batch-bytes, --flush-ms and --summary-seconds must be positive")
        writers = self._writers(writers)
        if not 0 <= metrics_port <= 65535:
            raise CommandError("--metrics-port must be 0 (off) or a TCP port")
        if shared_group and not is_device_id(shared_group):
            raise CommandError("--shared-group must be letters, digits, '.', '_' or '-'")
        self._check_tls_settings()
        turn_off_debug()
        metrics = self._serve_metrics(metrics_port) if metrics_port else None
        # Held until the process exits, after its disconnect: the lock keeps the client id this member's.
        membership = self._claim_client_id(shared_group)
        share = f"$share/{shared_group}/" if shared_group else ""
        try:
            receiver = self._receiver(membership, share)
        except OSError as error:  # ssl.SSLError included: a file that is not a certificate or key
            raise CommandError(f"cannot set up TLS to the broker: {error}") from error
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: receiver.wake_for_stop(stop))
        IngestRunner(
            receiver,
            policy=BatchPolicy(max_messages=batch_size, max_wait_ms=flush_ms, max_bytes=batch_bytes),
            stop=stop,
            summary_seconds=summary_seconds,
            metrics=metrics,
            writers=writers,
        ).run()

    @staticmethod
    def _writers(asked: int | None) -> int:
        """The writer processes to start: as asked, or the database's default (see --writers)."""
        if asked is None:
            return POSTGRESQL_WRITERS if connection.vendor == "postgresql" else 1
        if asked < 1:
            raise CommandError("--writers must be positive")
        if asked > 1 and connection.vendor != "postgresql":
            raise CommandError(f"--writers {asked} needs PostgreSQL: {connection.vendor} takes one writer at a time")
        return asked

    @staticmethod
    def _check_tls_settings() -> None:
        """Certificate files are only read with MQTT_TLS, and a client key needs its certificate."""
        files = {"MQTT_CA_FILE": settings.MQTT_CA_FILE, "MQTT_CERT_FILE": settings.MQTT_CERT_FILE,
                 "MQTT_KEY_FILE": settings.MQTT_KEY_FILE}
        if not settings.MQTT_TLS and any(files.values()):
            named = ", ".join(name for name, value in files.items() if value)
            raise CommandError(f"{named} set without MQTT_TLS=true: the connection would not use TLS")
        if settings.MQTT_KEY_FILE and not settings.MQTT_CERT_FILE:
            raise CommandError("MQTT_KEY_FILE needs MQTT_CERT_FILE (the client certificate it belongs to)")

    @staticmethod
    def _receiver(membership: Membership | None, share: str) -> MqttReceiver:
        """The MQTT side, from the settings (TLS files are read here)."""
        return MqttReceiver(
            MqttSettings(
                host=settings.MQTT_HOST,
                port=settings.MQTT_PORT,
                username=settings.MQTT_USERNAME,
                password=settings.MQTT_PASSWORD,
                client_id=membership.client_id if membership else settings.MQTT_CLIENT_ID,
                topic=share + settings.MQTT_TOPIC,
                status_topic=share + STATUS_TOPIC,
                tls=settings.MQTT_TLS,
                ca_file=settings.MQTT_CA_FILE,
                cert_file=settings.MQTT_CERT_FILE,
                key_file=settings.MQTT_KEY_FILE,
            )
        )

    @staticmethod
    def _serve_metrics(port: int) -> IngestMetrics:
        """The ingest's metrics, served from a daemon thread; a port already taken stops the command."""
        metrics = IngestMetrics()
        try:
            metrics.serve(port)
        except OSError as error:
            raise CommandError(f"cannot serve metrics on port {port}: {error}") from error
        return metrics

    @staticmethod
    def _claim_client_id(shared_group: str) -> Membership | None:
        """A member of a shared group gets a client id of its own; a lone ingest uses MQTT_CLIENT_ID as is."""
        if not shared_group:
            if settings.INGEST_MEMBER_ID:
                log.warning("INGEST_MEMBER_ID is ignored without --shared-group: client id %r", settings.MQTT_CLIENT_ID)
            return None
        try:
            membership = claim_member_id(settings.MQTT_CLIENT_ID, settings.INGEST_RUNTIME_DIR, settings.INGEST_MEMBER_ID)
        except (MembershipError, OSError) as error:
            raise CommandError(f"cannot claim a client id for --shared-group: {error}") from error
        log.info("member of shared group %r with client id %r", shared_group, membership.client_id)
        return membership
