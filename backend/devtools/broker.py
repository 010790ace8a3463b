"""A private Mosquitto running the project's broker configuration on chosen ports.

Used by the tests, the benchmarks and `make run`, so all of them run the broker
with the limits the project ships, not a stock broker's. LocalBroker adds a
development listener (anonymous, loopback) to mosquitto.conf's limits;
ProductionBroker runs broker/production.conf, the configuration docker compose
ships, with its listeners moved to free loopback ports and its files to a folder.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
PROJECT_CONFIG = REPO_DIR / "mosquitto.conf"
PRODUCTION_CONFIG = REPO_DIR / "broker" / "production.conf"
# The ports production.conf listens on, and the folders docker compose mounts.
PRODUCTION_DEVICE_PORT = 1883
PRODUCTION_INGEST_PORT = 1884
PRODUCTION_TLS_PORT = 8883
PRODUCTION_WEBSOCKETS_PORT = 9001
CONTAINER_LIMITS_DIR = "/mosquitto/limits"
CONTAINER_CONFIG_DIR = "/mosquitto/config/"
CONTAINER_DYNSEC_DIR = "/mosquitto/dynsec/"
CONTAINER_CERTS_DIR = "/mosquitto/certs/"
ACCOUNTS_SCRIPT = REPO_DIR / "broker" / "create-accounts.sh"
# The dynamic security plugin where the eclipse-mosquitto image has it, and where Debian's package does.
CONTAINER_DYNSEC_PLUGIN = "/usr/lib/mosquitto_dynamic_security.so"
DYNSEC_PLUGIN_PATHS = (CONTAINER_DYNSEC_PLUGIN, "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                       "/usr/local/lib/mosquitto_dynamic_security.so")
_OVERRIDDEN = ("listener", "persistence_location", "log_dest")


def mosquitto_binary(name: str = "mosquitto") -> str:
    """A Mosquitto executable (`mosquitto`, `mosquitto_passwd`), or a clear error saying how to install it."""
    found = shutil.which(name) or next(
        (path for path in (f"/usr/sbin/{name}", f"/usr/bin/{name}", f"/usr/local/sbin/{name}") if os.path.exists(path)),
        None,
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed: run `make deps` or `apt-get install mosquitto`")
    return found


def dynsec_plugin() -> str:
    """The dynamic security plugin's shared object, or a clear error."""
    found = next((path for path in DYNSEC_PLUGIN_PATHS if os.path.exists(path)), None)
    if found is None:
        raise RuntimeError("mosquitto_dynamic_security.so not found: install Mosquitto 2.0 (apt-get install mosquitto)")
    return found


def init_dynsec_file(path: Path, username: str, password: str) -> None:
    """A new dynamic security file holding only the admin account."""
    # mosquitto_ctrl exits 0 even when it failed: its output tells.
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([mosquitto_binary("mosquitto_ctrl"), "dynsec", "init", str(path), username, password],
                          capture_output=True, text=True)
    if "has been created" not in done.stdout:
        raise RuntimeError(f"mosquitto_ctrl dynsec init failed: {done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def render_limits(*, data_dir: Path) -> str:
    """mosquitto.conf's limits with a persistence folder and log file in `data_dir`."""
    kept = [
        line
        for line in PROJECT_CONFIG.read_text().splitlines()
        if not line.strip().startswith(_OVERRIDDEN)
    ]
    lines = [
        *kept,
        f"persistence_location {data_dir}/",
        f"log_dest file {data_dir}/mosquitto.log",
    ]
    if os.geteuid() == 0:
        lines.append("user root")  # as root Mosquitto would switch to a user that cannot write data_dir
    return "\n".join(lines) + "\n"


def render_config(*, port: int, data_dir: Path, bind: str = "127.0.0.1", extra: str = "") -> str:
    """The development broker: the limits plus one anonymous listener."""
    # With a listener configured, Mosquitto 2.0 refuses anonymous clients unless told otherwise.
    listener = f"listener {port} {bind}".rstrip() + "\nallow_anonymous true\n"
    return render_limits(data_dir=data_dir) + listener + extra


def render_production_config(*, ports: dict[int, int], data_dir: Path, bind: str = "127.0.0.1") -> str:
    """broker/production.conf as written, each listener's port p on ports[p] and its folders under `data_dir`.

    The limits it includes are rendered into data_dir/limits, the dynamic security file
    is expected in data_dir/dynsec, the TLS certificate and key in data_dir/certs.
    """
    ports = {str(production): local for production, local in ports.items()}
    folders = {
        CONTAINER_LIMITS_DIR: str(data_dir / "limits"),
        CONTAINER_CONFIG_DIR: f"{PRODUCTION_CONFIG.parent}/",
        CONTAINER_DYNSEC_DIR: f"{data_dir / 'dynsec'}/",
        CONTAINER_CERTS_DIR: f"{data_dir / 'certs'}/",
        CONTAINER_DYNSEC_PLUGIN: dynsec_plugin(),
    }
    lines, moved, unmapped = [], set(), []
    for line in PRODUCTION_CONFIG.read_text().splitlines():
        words = line.split()
        if words[:1] == ["listener"]:
            if len(words) != 2 or words[1] not in ports:
                raise ValueError(f"production.conf: unexpected listener line {line!r}")
            moved.add(words[1])
            line = f"listener {ports[words[1]]} {bind}"
        elif words and not words[0].startswith("#"):
            unmapped += [word for word in words if word.startswith("/") and not word.startswith(tuple(folders))]
            for container_path, local_path in folders.items():
                line = line.replace(container_path, local_path)
        lines.append(line)
    if moved != set(ports) or unmapped:
        raise ValueError(f"production.conf: listeners {sorted(moved)} moved, paths left unmapped: {unmapped}")
    (data_dir / "limits").mkdir(parents=True, exist_ok=True)
    (data_dir / "limits" / "mosquitto.conf").write_text(render_limits(data_dir=data_dir))
    return "\n".join(lines) + "\n"


def make_test_certificates(folder: Path, host: str = "127.0.0.1") -> dict[str, Path]:
    """A throw-away CA and a server certificate for `host` signed by it (openssl), valid for a day.

    Returns the paths of "ca", "cert" and "key" (PEM).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"ca": folder / "ca.crt", "ca_key": folder / "ca.key", "cert": folder / "server.crt",
             "key": folder / "server.key", "csr": folder / "server.csr", "ext": folder / "server.ext"}
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    paths["ext"].write_text(f"subjectAltName=IP:{host},DNS:localhost\n")
    for command in (
        ["req", "-x509", *key, "-keyout", paths["ca_key"], "-out", paths["ca"], "-days", "1", "-subj", "/CN=test CA"],
        ["req", *key, "-keyout", paths["key"], "-out", paths["csr"], "-subj", f"/CN={host}"],
        ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"], "-CAcreateserial",
         "-out", paths["cert"], "-days", "1", "-extfile", paths["ext"]],
    ):
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return {name: paths[name] for name in ("ca", "cert", "key")}


def tls_and_websockets_listeners(*, tls_port: int, websockets_port: int, certificates: dict[str, Path],
                                 bind: str = "127.0.0.1") -> str:
    """Configuration lines for an MQTT-over-TLS listener and an MQTT-over-WebSockets one."""
    return (f"listener {tls_port} {bind}\ncertfile {certificates['cert']}\nkeyfile {certificates['key']}\n"
            f"listener {websockets_port} {bind}\nprotocol websockets\n")


class LocalBroker:
    """Start, stop and restart one Mosquitto process; its data survives a restart."""

    def __init__(self, data_dir: Path, port: int | None = None, *, bind: str = "127.0.0.1", extra: str = ""):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.bind = bind
        self.extra = extra
        self.process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "mosquitto.log"

    @property
    def ports(self) -> list[int]:
        """Every port this broker listens on."""
        return [self.port]

    def render(self) -> str:
        """The configuration file's text."""
        return render_config(port=self.port, data_dir=self.data_dir, bind=self.bind, extra=self.extra)

    def start(self, timeout: float = 10.0) -> "LocalBroker":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "mosquitto.conf"
        config.write_text(self.render())
        with open(self.data_dir / "stderr.log", "ab") as stderr:
            self.process = subprocess.Popen(
                [mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + timeout
        reachable_at = self.bind if self.bind not in ("", "0.0.0.0") else "127.0.0.1"
        while not all(port_in_use(port, reachable_at) for port in self.ports):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log_file.read_text() if self.log_file.exists() else ""
                stderr = (self.data_dir / "stderr.log").read_text()
                raise RuntimeError(f"mosquitto did not start on ports {self.ports}:\n{log}{stderr}")
            time.sleep(0.05)
        return self

    def stop(self, *, hard: bool = False) -> None:
        """SIGTERM saves the persistent store; `hard` (SIGKILL) loses what was not saved."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "LocalBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ProductionBroker(LocalBroker):
    """broker/production.conf on free loopback ports, with the given accounts.

    `port` is the device listener (production's 1883), `ingest_port` the ingest's (1884),
    `tls_port` and `websockets_port` the devices' TLS (8883) and WebSockets (9001) ones,
    served with a throw-away certificate for 127.0.0.1 whose CA is `certificates["ca"]`.
    `ingest` (user name to password) has broker/create-accounts.sh, as docker compose
    runs it, make the admin, ingest and simulator accounts; otherwise a dynamic security
    file with the `admin` account is made at the first start unless data_dir/dynsec has
    one. `devices` (id to key) are then registered through the plugin, as the registry does.
    """

    def __init__(self, data_dir: Path, *, devices: dict[str, str] | None = None,
                 ingest: dict[str, str] | None = None, admin: tuple[str, str] | None = None):
        super().__init__(data_dir)
        taken = {self.port}
        self.ingest_port, self.tls_port, self.websockets_port = (self._another_port(taken) for _ in range(3))
        self.devices = devices
        self.ingest = ingest
        self.admin = admin or ("dynsec-admin", os.urandom(16).hex())
        self.certificates: dict[str, Path] = {}

    @staticmethod
    def _another_port(taken: set[int]) -> int:
        port = free_port()
        while port in taken:
            port = free_port()
        taken.add(port)
        return port

    @property
    def ports(self) -> list[int]:
        return [self.port, self.ingest_port, self.tls_port, self.websockets_port]

    @property
    def dynsec_file(self) -> Path:
        return self.data_dir / "dynsec" / "dynamic-security.json"

    def accounts(self):
        """DynamicSecurityAccounts acting on this broker's device listener as its admin."""
        from devices.broker_dynsec import AdminConnection, DynamicSecurityAccounts

        return DynamicSecurityAccounts(AdminConnection("127.0.0.1", self.port, *self.admin))

    def create_accounts(self, ingest: dict[str, str]) -> None:
        """Run broker/create-accounts.sh on this broker's files, as the compose service broker-accounts does."""
        [(username, password)] = ingest.items()
        self.dynsec_file.parent.mkdir(parents=True, exist_ok=True)
        env = {"PATH": "/usr/sbin:/usr/bin:/bin", "MOSQUITTO_DYNSEC_DIR": str(self.dynsec_file.parent),
               "MOSQUITTO_DYNSEC_PLUGIN": dynsec_plugin(), "INGEST_USERNAME": username, "INGEST_PASSWORD": password,
               "SIMULATOR_PASSWORD": os.urandom(16).hex(), "ADMIN_USERNAME": self.admin[0],
               "ADMIN_PASSWORD": self.admin[1]}
        subprocess.run(["sh", str(ACCOUNTS_SCRIPT)], env=env, check=True, capture_output=True)

    def render(self) -> str:
        if self.ingest is not None:
            self.create_accounts(self.ingest)
        if not self.dynsec_file.exists():
            init_dynsec_file(self.dynsec_file, *self.admin)
        if not self.certificates:
            self.certificates = make_test_certificates(self.data_dir / "certs")
        ports = {PRODUCTION_DEVICE_PORT: self.port, PRODUCTION_INGEST_PORT: self.ingest_port,
                 PRODUCTION_TLS_PORT: self.tls_port, PRODUCTION_WEBSOCKETS_PORT: self.websockets_port}
        return render_production_config(ports=ports, data_dir=self.data_dir)

    def start(self, timeout: float = 10.0) -> "ProductionBroker":
        super().start(timeout)
        if self.devices:
            accounts = self.accounts()
            for device_id, key in self.devices.items():
                accounts.upsert(device_id, key)
            self.devices = None  # registered; a restart keeps them in the plugin's file
        return self


def main() -> None:
    """Run the project's broker in the foreground (for `make run`)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=1883)
    # Loopback: `make run` is for this machine (DEBUG pages show the settings to anyone who can connect).
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--data-dir", type=Path, default=REPO_DIR / ".data" / "mosquitto")
    args = parser.parse_args()
    if port_in_use(args.port):
        print(
            f"A broker already listens on port {args.port}; using it. Its own limits apply: "
            "a stock Mosquitto queues only 1,000 messages for a stopped ingest.",
            flush=True,
        )
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return
    broker = LocalBroker(args.data_dir, args.port, bind=args.bind).start()
    print(f"mosquitto listening on {args.bind}:{args.port} with ./mosquitto.conf (log: {broker.log_file})", flush=True)
    # The handlers only pass the signal on: the main thread is already waiting for
    # mosquitto, and a second wait from inside a handler would block on the first.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: broker.process.send_signal(signal.SIGTERM))
    broker.process.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
