"""scim2-server's SCIM application served by waitress: HTTP/1.1 keep-alive, four threads.

The package's own command speaks HTTP/1.0 and closes every connection; benchmarks measure the
client, so they serve the same application this way (docs/testing.md, Peers). Prints
"ready <port>" once it listens. With --count-requests, GET /_requests answers how many requests
each "METHOD /Resource" received, and DELETE /_requests starts the count again.
"""

import argparse
import collections
import json
import socket
import threading

import waitress
from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import (
    BEARER_TOKEN_SCHEME,
    BearerTokenApplication,
)
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)


def counting(app):
    counts = collections.Counter()
    lock = threading.Lock()

    def counted(environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/_requests":
            with lock:
                body = json.dumps(counts).encode()
                if method == "DELETE":
                    counts.clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        resource = path.removeprefix("/v2").strip("/").split("/")[0]
        with lock:
            counts[f"{method} /{resource}"] += 1
        return app(environ, start_response)

    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bearer-token", action="append", default=[])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--count-requests", action="store_true")
    args = parser.parse_args()

    config = load_default_service_provider_config()
    if args.bearer_token:
        config.authentication_schemes = [
            *(config.authentication_schemes or []),
            BEARER_TOKEN_SCHEME,
        ]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(),
        load_default_resource_types().values(),
        config=config,
    )
    app = BearerTokenApplication(
        InMemoryStorage(),
        provider,
        service=ScimService(provider, secret=None),
        bearer_tokens=args.bearer_token,
    )
    if args.count_requests:
        app = counting(app)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    # Listening before saying so: a client may connect as soon as it reads the line.
    listener.listen(1024)
    print(f"ready {listener.getsockname()[1]}", flush=True)
    waitress.serve(app, sockets=[listener], threads=args.threads, _quiet=True)


if __name__ == "__main__":
    main()
