#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libkith from Python through GObject Introspection (Kith-1.0.typelib): a real agent
(peering and upload), a real kith-backend and an origin on loopback; status, a fetch
with progress, an upload with its receipt."""

import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

try:
    import gi
    gi.require_version("Kith", "1.0")
    from gi.repository import GLib, Kith
except (ImportError, ValueError) as e:
    print(f"SKIP: no python3-gi or no Kith typelib: {e}")
    sys.exit(77)

AGENT = os.environ["KITH_AGENT_BIN"]
BACKEND = os.environ["KITH_BACKEND"]
PLUGIN_DIRS = os.environ["KITH_TEST_PLUGIN_DIRS"]
TIMEOUT = 60 * int(os.environ.get("KITH_TEST_TIMEOUT_MULTIPLIER", "1"))
PAYLOAD = bytes(range(256)) * 1024  # 256 KiB


class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/payload.bin":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


def wait_line(stream, pattern, what):
    """Reads @stream until a line matches @pattern (the process's ready line)."""
    seen = []
    for line in stream:
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"{what} exited before its ready line:\n{''.join(seen)}")


def drain(stream):
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def main():
    tmp = tempfile.mkdtemp(prefix="kith-py-")
    procs = []
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    try:
        backend_dir = os.path.join(tmp, "backend")
        subprocess.run([BACKEND, "init", backend_dir], check=True, timeout=TIMEOUT, capture_output=True)
        backend = subprocess.Popen(["timeout", str(TIMEOUT * 2), BACKEND, "serve", "--listen", "127.0.0.1:0",
                                    backend_dir], stdout=subprocess.PIPE, text=True)
        procs.append(backend)
        backend_url = wait_line(backend.stdout, r"serving .* on (\S+)", "kith-backend").group(1)
        drain(backend.stdout)

        conf = os.path.join(tmp, "kith-agent.conf")
        with open(conf, "w") as f:
            f.write(f"""[agent]
state-dir=state
plugin-dir={PLUGIN_DIRS}
plugins=peering;upload
dbus=unix:path={tmp}/bus
http-listen=127.0.0.1:0
backend-url={backend_url}
trust-anchor={backend_dir}/ca.pem
[peering]
port={20000 + os.getpid() % 20000}
[upload]
scan=100ms
retry=300ms
""")
        agent = subprocess.Popen(["timeout", str(TIMEOUT * 2), AGENT, "--config", conf],
                                 stderr=subprocess.PIPE, text=True)
        procs.append(agent)
        address = wait_line(agent.stderr, r"ready: .* dbus=(\S+)", "kith-agent").group(1)
        drain(agent.stderr)

        # status
        client = Kith.Client.new()
        client.set_address(address)
        assert client.connect(None)
        node_id = client.get_node_id()
        assert re.fullmatch(r"[0-9a-f]{32}", node_id), node_id
        status = client.get_status(None).unpack()
        assert status["agent"]["node-id"] == node_id, status["agent"]
        assert "peering" in status and "upload" in status, list(status)
        plugins = {p.name: p.state for p in client.get_plugins()}
        assert plugins == {"peering": "running", "upload": "running"}, plugins

        # a fetch with progress
        url = f"http://127.0.0.1:{origin.server_address[1]}/payload.bin"
        dest = os.path.join(tmp, "payload.bin")
        states = []

        def progress(transfer, data):
            states.append(transfer.get_state())

        transfer = client.fetch(url, dest, None, Kith.ClientFetchFlags.NONE, progress, None, None)
        assert transfer.get_state() == Kith.ClientTransferState.DONE, transfer.get_state()
        assert transfer.get_bytes_done() == len(PAYLOAD)
        assert states and states[-1] == Kith.ClientTransferState.DONE, states
        assert Kith.ClientTransferState.FROM_ORIGIN in states, states
        with open(dest, "rb") as f:
            assert f.read() == PAYLOAD

        # an upload, waiting for the backend's receipt
        report = os.path.join(tmp, "report.json")
        with open(report, "w") as f:
            f.write('{"detections": 0}\n')
        receipt = client.upload_file(report, True, None)
        assert receipt and node_id in receipt, receipt
        upload = client.upload_get_status(None)
        assert upload.delivered >= 1, upload.delivered

        # errors arrive as Kith.ClientError
        try:
            client.fetch("ftp://example.invalid/x", dest, None, Kith.ClientFetchFlags.NONE, None, None, None)
            raise AssertionError("a bad URL fetched")
        except GLib.Error as e:
            assert e.domain == "kith-client-error-quark", e.domain
        print("ok: status, fetch with progress, upload through Kith-1.0.typelib")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=TIMEOUT)
        origin.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
