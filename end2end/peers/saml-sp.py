"""A SAML 2.0 service provider: pysaml2's own client (saml2.client.Saml2Client) behind a small
WSGI application served by waitress, for the single sign-on journeys (docs/testing.md, Peers).

It trusts only the identity provider metadata it downloads from the console, and pysaml2 checks
every response with xmlsec1: the signature against the metadata's certificates, the audience,
the recipient, the validity window and, for sign-ins it started, InResponseTo.

    saml-sp.py PORT IDP_METADATA_URL

Prints one JSON line {"url", "entity_id", "acs"} once it listens. Routes:
  GET  /metadata  this service provider's metadata (to upload in the Single sign-on blade)
  POST /reload    downloads the identity provider's metadata again
  GET  /login     SP-initiated sign-in (HTTP-Redirect binding); ?binding=post for HTTP-POST
  POST /acs       the Assertion Consumer Service: "Signed in as <NameID>" with the attributes,
                  or 403 "Refused: <why>"
"""

import html
import json
import shutil
import socket
import sys
import tempfile
import threading
import urllib.parse
import urllib.request

import waitress
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

port, idp_metadata_url = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{port}"
metadata_file = tempfile.NamedTemporaryFile(suffix=".xml", delete=False).name


def config(with_idp):
    settings = {
        "entityid": f"{base}/metadata",
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(f"{base}/acs", BINDING_HTTP_POST)]},
                # IdP-initiated sign-in (My Apps) has no request to answer.
                "allow_unsolicited": True,
                # The claims keep the names the console gives them.
                "allow_unknown_attributes": True,
                "authn_requests_signed": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
            }
        },
        "xmlsec_binary": shutil.which("xmlsec1"),
        "accepted_time_diff": 60,
    }
    if with_idp:
        settings["metadata"] = {"local": [metadata_file]}
    sp_config = SPConfig()
    sp_config.load(settings)
    return sp_config


state = {"client": None, "outstanding": {}}
lock = threading.Lock()


def reload():
    with urllib.request.urlopen(idp_metadata_url) as answer:
        xml = answer.read()
    with open(metadata_file, "wb") as file:
        file.write(xml)
    with lock:
        state["client"] = Saml2Client(config=config(True))


def page(start_response, status, body, content_type="text/html; charset=utf-8", headers=()):
    data = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
    return [data]


def form(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return urllib.parse.parse_qs(environ["wsgi.input"].read(length).decode())


def application(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if path == "/metadata":
        xml = str(entity_descriptor(config(False)))
        return page(start_response, "200 OK", xml, "application/samlmetadata+xml")
    if path == "/reload" and method == "POST":
        reload()
        return page(start_response, "200 OK", "reloaded", "text/plain")
    client = state["client"]
    if client is None:
        return page(start_response, "503 Service Unavailable", "no IdP metadata yet: POST /reload", "text/plain")
    if path == "/login":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        binding = BINDING_HTTP_POST if query.get("binding") == ["post"] else BINDING_HTTP_REDIRECT
        request_id, info = client.prepare_for_authenticate(relay_state="sp-initiated", binding=binding)
        with lock:
            state["outstanding"][request_id] = "/"
        if binding == BINDING_HTTP_REDIRECT:
            location = dict(info["headers"])["Location"]
            return page(start_response, "303 See Other", "", headers=[("Location", location)])
        return page(start_response, "200 OK", info["data"])
    if path == "/acs" and method == "POST":
        fields = form(environ)
        try:
            response = client.parse_authn_request_response(
                fields.get("SAMLResponse", [""])[0], BINDING_HTTP_POST, outstanding=dict(state["outstanding"])
            )
            if response is None:
                raise ValueError("no response")
        except Exception as error:  # pysaml2 raises many kinds; the journey reads the reason
            reason = html.escape(f"{type(error).__name__}: {error}")
            return page(start_response, "403 Forbidden", f"<h1>Refused</h1><p>Refused: {reason}</p>")
        with lock:
            state["outstanding"].pop(response.in_response_to, None)
        attributes = "".join(
            f"<dt>{html.escape(name)}</dt><dd>{html.escape(', '.join(values))}</dd>"
            for name, values in sorted(response.ava.items())
        )
        relay_state = html.escape(fields.get("RelayState", [""])[0])
        name_id = html.escape(response.name_id.text)
        solicited = "SP-initiated" if response.in_response_to else "IdP-initiated"
        return page(
            start_response,
            "200 OK",
            f"<h1>Signed in as {name_id}</h1><p>{solicited}; relay state: {relay_state}</p><dl>{attributes}</dl>",
        )
    return page(start_response, "404 Not Found", "not found", "text/plain")


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen()
print(json.dumps({"url": base, "entity_id": f"{base}/metadata", "acs": f"{base}/acs"}), flush=True)
waitress.serve(application, sockets=[listener], threads=4, _quiet=True)
