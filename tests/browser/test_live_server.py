"""The browser tests' live server itself: a page the browser drops mid-download leaks nothing."""
import gc
import socket
import struct
import time
from urllib.parse import urlsplit

FONT = "/bootstrap/static/css/font/fonts/bootstrap-icons.woff2"


def test_a_download_the_client_drops_leaves_no_file_open(live_app):
    # The browser closing a page while a font is on its way is a reset connection mid-response.
    # Werkzeug's server then skips closing the response; the file it had open would surface as an
    # unraisable ResourceWarning, which this suite turns into an error.
    address = urlsplit(live_app.config["LIVE_URL"])
    response = live_app.test_client().get(FONT)
    assert response.status_code == 200 and len(response.data) > 100_000  # a file, long enough to be cut
    response.close()
    for _ in range(20):
        connection = socket.create_connection((address.hostname, address.port))
        connection.sendall(f"GET {FONT} HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
        assert connection.recv(1)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    time.sleep(0.5)
    gc.collect()
