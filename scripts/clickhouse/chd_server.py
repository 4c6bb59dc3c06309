#!/usr/bin/env python3
"""Run a real ClickHouse server (HTTP + native TCP) on loopback from the chdb-core wheel.

chdb-core (PyPI) embeds ClickHouse 26.x. Its clickhouse-local has the server's protocol
handlers linked in and, since 26.x, accepts ``SYSTEM START LISTEN HTTP`` / ``SYSTEM START
LISTEN TCP``: the listeners are ClickHouse's own HTTPHandler and TCPHandler, the same code
clickhouse-server runs, so clients see a real server (handshake, Native format, compression,
settings, sessions, exceptions, X-ClickHouse-* headers) rather than an emulation.

The listeners live as long as the clickhouse-local invocation that started them. This
process therefore runs one invocation whose last statement is a "keepalive" query that
sleeps for decades; the listeners serve clients on their own threads meanwhile. SIGTERM or
SIGINT kills the keepalive query through the server's own HTTP port, clickhouse-local then
stops the listeners (draining connections for up to 5 s) and flushes, and the process exits.

The listen ports and the rest of the server configuration come from ``config.xml`` in the
working directory (clickhouse-local reads ./config.xml at start), which this script writes
into --run-dir before it starts the engine.

Usage (scripts/clickhouse.sh does this for you):
    python chd_server.py --run-dir /tmp/roachwatch-ch --http-port 18123 --tcp-port 19000
"""

import argparse
import hashlib
import os
import signal
import sys
import threading
import time
import urllib.request
from xml.sax.saxutils import escape

# A string that appears in the keepalive query's text and nowhere else; the stop query looks
# for it with a pattern that does not contain it verbatim, so the KILL does not match itself.
KEEPALIVE_MARK = "roachwatch_chd_keepalive_9c41"


def log(msg):
    sys.stderr.write("chd_server: %s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def write_config(args, data_dir):
    """Write config.xml for clickhouse-local into the run dir (its working directory)."""
    mem = ""
    if args.max_memory > 0:
        mem = "    <max_server_memory_usage>%d</max_server_memory_usage>\n" % args.max_memory
    xml = (
        "<clickhouse>\n"
        "    <!-- written by scripts/clickhouse/chd_server.py; regenerated on every start -->\n"
        "    <listen_host>{host}</listen_host>\n"
        "    <listen_try>0</listen_try>\n"
        "    <http_port>{http}</http_port>\n"
        "    <tcp_port>{tcp}</tcp_port>\n"
        "    <display_name>{name}</display_name>\n"
        "    <log-level>{level}</log-level>\n"
        "    <logger>\n"
        "        <level>{level}</level>\n"
        "        <log>{logfile}</log>\n"
        "    </logger>\n"
        "    <max_concurrent_queries>{maxq}</max_concurrent_queries>\n"
        "    <query_log>\n"
        "        <database>system</database>\n"
        "        <table>query_log</table>\n"
        "        <flush_interval_milliseconds>1000</flush_interval_milliseconds>\n"
        "    </query_log>\n"
        "{mem}"
        "    <timezone>UTC</timezone>\n"
        "    <user_directories>\n"
        "        <users_xml><path>{users}</path></users_xml>\n"

        "    </user_directories>\n"

        "</clickhouse>\n"
    ).format(
        host=escape(args.host),
        http=args.http_port,
        tcp=args.tcp_port,
        name=escape(args.display_name),
        level=escape(args.log_level),
        logfile=escape(os.path.join(args.run_dir, "clickhouse-server.log")),
        maxq=args.max_concurrent_queries,
        mem=mem,
        users=escape(os.path.join(args.run_dir, "users.xml")),
    )
    # clickhouse-local only reads users from XML (CREATE USER finds no writable storage), so
    # the users are here: the password-less "default" of clickhouse-local, and, with
    # --password-file, "roachwatch" (read-write) and "analyst" (read-only: readonly=2 lets it
    # set query settings but not write or change anything) with that password.
    pw_users = ""
    if args.password_file:
        with open(args.password_file) as f:
            digest = hashlib.sha256(f.read().strip().encode()).hexdigest()
        for name, profile in (("roachwatch", "default"), ("analyst", "analyst")):
            pw_users += (
                "        <{n}>\n"
                "            <password_sha256_hex>{d}</password_sha256_hex>\n"
                "            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>\n"
                "            <profile>{p}</profile>\n"
                "            <quota>default</quota>\n"
                "        </{n}>\n"
            ).format(n=name, d=digest, p=profile)
    users = (
        "<clickhouse>\n"
        "    <!-- written by scripts/clickhouse/chd_server.py -->\n"
        "    <profiles>\n"
        "        <default/>\n"
        "        <analyst><readonly>2</readonly></analyst>\n"
        "    </profiles>\n"
        "    <quotas><default/></quotas>\n"
        "    <users>\n"
        "        <default>\n"
        "            <password></password>\n"
        "            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>\n"
        "            <profile>default</profile>\n"
        "            <quota>default</quota>\n"
        "        </default>\n"
        "{pw_users}"
        "    </users>\n"
        "</clickhouse>\n"
    ).format(pw_users=pw_users)
    with open(os.path.join(args.run_dir, "users.xml.tmp"), "w") as f:
        f.write(users)
    os.replace(os.path.join(args.run_dir, "users.xml.tmp"), os.path.join(args.run_dir, "users.xml"))
    path = os.path.join(args.run_dir, "config.xml")
    with open(path + ".tmp", "w") as f:
        f.write(xml)
    os.replace(path + ".tmp", path)
    os.makedirs(data_dir, exist_ok=True)
    return path


def load_chdb(run_dir):
    """Import chdb's extension module ``chdb._chdb`` and return (module, how).

    ``import chdb`` runs the package __init__, which starts a throwaway embedded engine to
    read the version. That engine sets up ClickHouse's process-wide logging first, after
    which the real engine's server log stays empty, and it reads ./config.xml too. So load
    the extension the way __init__ does (pre-load the library with RTLD_DEEPBIND, import it
    from the package directory) but without running __init__. If that fails (a chdb-core
    layout this script does not know), fall back to the ordinary import from an empty
    directory: the server then works the same, only its text log stays empty.
    """
    import ctypes
    import importlib.util
    import types

    spec = importlib.util.find_spec("chdb")
    if spec is None or not spec.origin:
        raise SystemExit("chd_server: the chdb package (chdb-core) is not installed in this Python")
    pkgdir = os.path.dirname(spec.origin)
    try:
        if sys.platform == "linux":
            ctypes.CDLL(os.path.join(pkgdir, "_chdb.abi3.so"), mode=sys.getdlopenflags() | 0x8)  # RTLD_DEEPBIND
        pkg = types.ModuleType("chdb")
        pkg.__path__ = [pkgdir]
        pkg.__file__ = spec.origin
        sys.modules["chdb"] = pkg
        os.chdir(pkgdir)
        import chdb._chdb as mod  # noqa: E402

        return mod, "extension only"
    except Exception as e:  # noqa: BLE001 - fall back to the supported import
        log("loading chdb._chdb directly failed (%s); falling back to 'import chdb'" % e)
        for name in [n for n in sys.modules if n == "chdb" or n.startswith("chdb.")]:
            del sys.modules[name]
        empty = os.path.join(run_dir, "import-cwd")
        os.makedirs(empty, exist_ok=True)
        os.chdir(empty)
        from chdb import _chdb as mod  # noqa: E402

        return mod, "via package __init__; server text log disabled"


def keepalive_sql(args):
    starts = []
    if args.http_port > 0:
        starts.append("SYSTEM START LISTEN HTTP")
    if args.tcp_port > 0:
        starts.append("SYSTEM START LISTEN TCP")
    # sleep() is capped at 3 s per block, so sleep 3 s per 1-row block over ~95 years of rows.
    hold = (
        "SELECT '%s', sleep(3) FROM numbers(1000000000) "
        "SETTINGS max_block_size = 1, max_execution_time = 0 FORMAT Null" % KEEPALIVE_MARK
    )
    return "; ".join(starts + [hold])


def kill_keepalive(args):
    """Ask our own server to kill the keepalive query; True if the request went through."""
    pattern = "%" + KEEPALIVE_MARK[:12] + "%" + KEEPALIVE_MARK[12:] + "%"
    sql = "KILL QUERY WHERE query LIKE '%s' AND query NOT LIKE '%%KILL QUERY%%' ASYNC" % pattern
    url = "http://%s:%d/" % (args.host, args.http_port)
    try:
        req = urllib.request.Request(url, data=sql.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
        return True
    except Exception as e:  # noqa: BLE001 - report and let the caller fall back
        log("stop: KILL QUERY via %s failed: %s" % (url, e))
        return False


class TLSFront:
    """A TLS listener in front of one of the engine's plaintext listeners.

    clickhouse-local cannot start ClickHouse's own secure listeners (``SYSTEM START LISTEN
    TCP SECURE`` answers "supports only TCP and HTTP listeners"), so TLS is terminated here
    and the bytes are relayed unchanged to the plaintext port on loopback. Clients therefore
    do a real TLS handshake (certificate chain, host name, protocol version) and then speak
    the real server's native or HTTP protocol through it.
    """

    def __init__(self, name, host, port, backend_port, cert, key):
        import socket
        import ssl

        self.name, self.host, self.port, self.backend = name, host, port, (host, backend_port)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.settimeout(0.5)
        self.closed = threading.Event()

    def serve(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, raw):
        import socket

        try:
            raw.settimeout(30)
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except OSError as e:  # a failed handshake is the client's business (wrong CA, old TLS)
            log("%s: handshake failed: %s" % (self.name, e))
            raw.close()
            return
        tls.settimeout(None)
        try:
            up = socket.create_connection(self.backend, timeout=10)
            up.settimeout(None)
        except OSError as e:
            log("%s: backend %s:%d: %s" % (self.name, self.backend[0], self.backend[1], e))
            tls.close()
            return

        def pump(src, dst):
            try:
                while True:
                    b = src.recv(65536)
                    if not b:
                        break
                    dst.sendall(b)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(up, tls), daemon=True)
        t.start()
        pump(tls, up)
        t.join()
        tls.close()
        up.close()

    def close(self):
        self.closed.set()
        self.sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", required=True, help="working dir: config.xml, data/, server log")
    p.add_argument("--host", default="127.0.0.1", help="listen address (loopback only)")
    p.add_argument("--http-port", type=int, default=18123)
    p.add_argument("--tcp-port", type=int, default=19000, help="native protocol port, 0 = off")
    p.add_argument("--display-name", default="roachwatch-chdb")
    p.add_argument("--log-level", default="debug", help="ClickHouse server log level")
    p.add_argument("--max-memory", type=int, default=4 << 30, help="max_server_memory_usage bytes, 0 = default")
    p.add_argument("--max-concurrent-queries", type=int, default=64)
    p.add_argument("--password-file", default="", help="password of the users roachwatch and analyst")
    p.add_argument("--tls-cert", default="", help="server certificate (PEM) for the TLS ports")
    p.add_argument("--tls-key", default="", help="its private key (PEM)")
    p.add_argument("--tls-native-port", type=int, default=0, help="native protocol over TLS, 0 = off")
    p.add_argument("--https-port", type=int, default=0, help="HTTP interface over TLS, 0 = off")
    args = p.parse_args()

    if args.host not in ("127.0.0.1", "::1", "localhost"):
        p.error("--host must be a loopback address")
    if args.http_port <= 0:
        p.error("--http-port is required (stop goes through it)")
    if (args.tls_native_port > 0 or args.https_port > 0) and not (args.tls_cert and args.tls_key):
        p.error("--tls-native-port/--https-port need --tls-cert and --tls-key")
    if args.tls_native_port > 0 and args.tcp_port <= 0:
        p.error("--tls-native-port relays to the native port: set --tcp-port")

    args.run_dir = os.path.abspath(args.run_dir)
    os.makedirs(args.run_dir, exist_ok=True)
    data_dir = os.path.join(args.run_dir, "data")
    write_config(args, data_dir)

    t0 = time.time()
    _chdb, how = load_chdb(args.run_dir)
    # clickhouse-local reads ./config.xml: the engine runs from the run dir.
    os.chdir(args.run_dir)

    log("chdb-core loaded (%s) in %.2fs; starting listeners http=%s:%d tcp=%s:%d data=%s"
        % (how, time.time() - t0, args.host, args.http_port, args.host, args.tcp_port, data_dir))

    outcome = {}

    def run():
        try:
            # The output format given here becomes the server-wide default_format; a real server
            # defaults to TabSeparated, so pass that (the keepalive itself outputs nothing).
            res = _chdb.query(keepalive_sql(args), "TabSeparated", path=data_dir)
            err = res.error_message() if hasattr(res, "error_message") else ""
            outcome["error"] = err or ""
        except Exception as e:  # noqa: BLE001 - chdb raises on SQL errors
            outcome["error"] = str(e)

    worker = threading.Thread(target=run, name="clickhouse-local", daemon=True)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        log("signal %d: stopping" % signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fronts = []
    for name, port, backend in (("tls-native", args.tls_native_port, args.tcp_port),
                                ("https", args.https_port, args.http_port)):
        if port > 0:
            fronts.append(TLSFront(name, args.host, port, backend, args.tls_cert, args.tls_key))
            log("%s: TLS on %s:%d relays to %s:%d" % (name, args.host, port, args.host, backend))
    worker.start()
    for f in fronts:
        threading.Thread(target=f.serve, name=f.name, daemon=True).start()

    while worker.is_alive() and not stopping.is_set():
        worker.join(0.5)

    if not worker.is_alive() and not stopping.is_set():
        # The keepalive query only ends when it is killed, so this is a failure (a port in
        # use, a bad config, ...). clickhouse-local has printed the exception to stderr.
        err = outcome.get("error", "").strip()
        log("clickhouse-local ended on its own: %s" % (err or "see the exception above"))
        return 1
    if not worker.is_alive():
        log("clickhouse-local exited")
        return 0

    if kill_keepalive(args):
        worker.join(30)
    if worker.is_alive():
        log("engine did not stop within 30 s; exiting without a clean shutdown")
        os._exit(1)
    log("stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
