"""The loopback test server speaks SurrealDB 3.x's wire protocol.

Raw `websockets` + `cbor2` and raw `httpx` only, so these tests check the server itself,
not the project's runtime.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import cbor2
import httpx
import pytest
import websockets
from surrealdb import AsyncSurreal, RecordID
from surrealdb.types import Value
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.typing import Subprotocol

from tests.fixtures.server import SurrealDatabase, SurrealServer

NONE = cbor2.CBORTag(6, None)
LIVE_CLEANUP_DEADLINE_S = 10.0


class RawSocket:
    """A CBOR WebSocket that keeps notifications aside while waiting for replies."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.notifications: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def send(self, method: str, params: list[Any] | None = None, **extra: Any) -> Any:
        request_id = next(self._ids)
        await self.ws.send(
            cbor2.dumps({"id": request_id, "method": method, "params": params or [], **extra})
        )
        while True:
            message = await self.receive()
            if "id" not in message:
                self.notifications.append(message)
                continue
            assert message["id"] == request_id
            return message

    async def call(self, method: str, params: list[Any] | None = None, **extra: Any) -> Any:
        reply = await self.send(method, params, **extra)
        assert "error" not in reply, reply
        return reply["result"]

    async def receive(self) -> dict[str, Any]:
        data = await self.ws.recv()
        assert isinstance(data, bytes), "the cbor subprotocol sends binary frames"
        message: dict[str, Any] = cbor2.loads(data)
        return message

    async def notification(self) -> dict[str, Any]:
        if self.notifications:
            return self.notifications.pop(0)
        message = await self.receive()
        assert "id" not in message, message
        return message


async def signed_in(
    server: SurrealServer, target: SurrealDatabase, ws: ClientConnection
) -> RawSocket:
    socket = RawSocket(ws)
    await socket.call("signin", [root_credentials(server)])
    await socket.call("use", [target.namespace, target.database])
    return socket


def root_credentials(server: SurrealServer) -> dict[str, str]:
    return {"user": server.user, "pass": server.password}


def record(table: str, key: Any) -> cbor2.CBORTag:
    """A record id as cbor2 decodes tag 8 (its array comes back as a tuple)."""
    return cbor2.CBORTag(8, (table, key))


def uuid_of(value: Any) -> uuid.UUID:
    """cbor2 decodes tag 37 (UUID) to uuid.UUID."""
    assert isinstance(value, uuid.UUID)
    return value


def connect(server: SurrealServer, protocol: str = "cbor") -> websocket_connect:
    return websocket_connect(server.ws_url, subprotocols=[Subprotocol(protocol)])


# -- WebSocket RPC ----------------------------------------------------------------------


async def test_signin_use_and_query_echo_the_request_id(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        assert ws.subprotocol == "cbor"
        socket = RawSocket(ws)
        signin = {"id": "first", "method": "signin", "params": [root_credentials(surreal_server)]}
        await ws.send(cbor2.dumps(signin))
        reply = await socket.receive()
        assert reply["id"] == "first"
        assert isinstance(reply["result"], str) and reply["result"].count(".") == 2

        used = await socket.call("use", [surreal_database.namespace, surreal_database.database])
        assert used == {
            "namespace": surreal_database.namespace,
            "database": surreal_database.database,
        }

        statements = await socket.call(
            "query", ["CREATE person:1 SET score = 1.5; SELECT * FROM person"]
        )
        assert [s["status"] for s in statements] == ["OK", "OK"]
        assert statements[1]["result"] == [{"id": record("person", 1), "score": 1.5}]
        assert await socket.call("version") == "surrealdb-3.0.2"


async def test_anonymous_socket_cannot_query(surreal_server: SurrealServer) -> None:
    async with connect(surreal_server) as ws:
        socket = RawSocket(ws)
        reply = await socket.send("query", ["RETURN 1"])
        assert reply["error"]["kind"] == "NotAllowed"
        assert reply["error"]["details"]["kind"] == "Auth"
        assert await socket.call("ping") == NONE


async def test_wrong_credentials_are_rejected(surreal_server: SurrealServer) -> None:
    async with connect(surreal_server) as ws:
        socket = RawSocket(ws)
        reply = await socket.send("signin", [{"user": surreal_server.user, "pass": "wrong"}])
        assert reply["error"]["details"] == {"kind": "Auth", "details": {"kind": "InvalidAuth"}}
        assert (await socket.send("select", ["person"]))["error"]["kind"] == "NotAllowed"


async def test_malformed_requests_get_protocol_errors(surreal_server: SurrealServer) -> None:
    async with connect(surreal_server) as ws:
        socket = RawSocket(ws)
        complete = cbor2.dumps({"id": 1, "method": "ping"})
        for request, code in (
            (complete[:-1], -32700),
            (b"\xff", -32700),
            (cbor2.dumps([1]), -32600),
        ):
            await ws.send(request)
            reply = await socket.receive()
            assert "id" not in reply and reply["error"]["code"] == code
        assert await socket.call("ping") == NONE


async def test_invalidate_makes_the_socket_anonymous_again(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        assert (await socket.call("query", ["RETURN 1"]))[0]["result"] == 1
        await socket.call("invalidate")
        assert (await socket.send("query", ["RETURN 1"]))["error"]["kind"] == "NotAllowed"


async def test_json_subprotocol_renders_values_as_json(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server, "json") as ws:
        assert ws.subprotocol == "json"

        async def call(request_id: int, method: str, params: list[Any]) -> Any:
            await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
            reply = json.loads(await ws.recv())
            assert reply["id"] == request_id
            return reply["result"]

        await call(1, "signin", [root_credentials(surreal_server)])
        await call(2, "use", [surreal_database.namespace, surreal_database.database])
        sql = "CREATE person:tobie SET at = d'2024-01-02T03:04:05.5Z', took = 90m, gone = NONE"
        [created] = await call(3, "query", [sql])
        assert created["result"] == [
            {"id": "person:tobie", "at": "2024-01-02T03:04:05.500Z", "took": "1h30m"}
        ]
        sql = "RETURN [(1.5, 2.5), person:⟨123⟩, type::record('my-table', 5), <bytes>'ab', 1.50dec]"
        [returned] = await call(4, "query", [sql])
        assert returned["result"] == [
            {"type": "Point", "coordinates": [1.5, 2.5]},
            "person:`123`",
            "`my-table`:5",
            [97, 98],
            "1.5",
        ]


async def test_json_record_ids_read_as_the_engine_prints_them(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    """The JSON text of a record id is the engine's own (`<string>` cast) for awkward keys."""
    keys: list[Any] = ["123", "a b", "a`b", "a\\b", "1a", "x1", ["it's", 'a"b'], {"a b": 1}]
    async with connect(surreal_server, "json") as ws:
        request_ids = itertools.count(1)

        async def call(method: str, params: list[Any]) -> Any:
            request_id = next(request_ids)
            await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
            reply = json.loads(await ws.recv())
            assert reply["id"] == request_id
            return reply["result"]

        await call("signin", [root_credentials(surreal_server)])
        await call("use", [surreal_database.namespace, surreal_database.database])
        for table, key in itertools.product(["person", "1a", "my-table"], keys):
            sql = "LET $id = type::record($t, $k); RETURN [<string> $id, $id]"
            [_, returned] = await call("query", [sql, {"t": table, "k": key}])
            [engine_text, json_text] = returned["result"]
            assert json_text == engine_text


async def test_json_subprotocol_notifications(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server, "json") as ws:
        notifications: list[dict[str, Any]] = []

        async def call(request_id: int, method: str, params: list[Any]) -> Any:
            await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
            while "id" not in (message := json.loads(await ws.recv())):
                notifications.append(message)
            assert message["id"] == request_id
            return message["result"]

        await call(1, "signin", [root_credentials(surreal_server)])
        await call(2, "use", [surreal_database.namespace, surreal_database.database])
        [_, live] = await call(3, "query", ["DEFINE TABLE person; LIVE SELECT * FROM person"])
        await call(4, "query", ["CREATE person:json SET n = 1"])
        if not notifications:
            notifications.append(json.loads(await ws.recv()))
        assert notifications == [
            {
                "result": {
                    "id": live["result"],
                    "action": "CREATE",
                    "record": "person:json",
                    "result": {"id": "person:json", "n": 1},
                    "session": None,
                }
            }
        ]


async def test_bytes_are_passed_through_unchanged(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    """Engine values reach the client as the engine encoded them (floats stay floats)."""
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        [statement] = await socket.call(
            "query", ["RETURN [1.0f, 1, 1.50dec, <set>[2, 1], 9223372036854775807]"]
        )
        one_float, one_int, decimal, set_value, big = statement["result"]
        assert isinstance(one_float, float) and isinstance(one_int, int)
        assert decimal == cbor2.CBORTag(10, "1.5")
        assert set_value == cbor2.CBORTag(56, (1, 2))
        assert big == 9223372036854775807


async def test_named_sessions_are_separate_and_listed(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        session = uuid.uuid4()
        attached = await socket.send("attach", session=session)
        assert attached["result"] == NONE and attached["session"] == session
        assert await socket.call("sessions") == [session]

        anonymous = await socket.send("query", ["RETURN 1"], session=session)
        assert anonymous["error"]["kind"] == "NotAllowed" and anonymous["session"] == session
        await socket.call("signin", [root_credentials(surreal_server)], session=session)
        [returned] = await socket.call("query", ["RETURN session::ns()"], session=session)
        assert returned["result"] == NONE

        await socket.call("detach", session=session)
        assert await socket.call("sessions") == []
        assert (await socket.send("query", ["RETURN 1"], session=session))["error"]["kind"] == (
            "NotFound"
        )


async def test_a_socket_cannot_use_another_sockets_session(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as first_ws, connect(surreal_server) as second_ws:
        first = await signed_in(surreal_server, surreal_database, first_ws)
        second = await signed_in(surreal_server, surreal_database, second_ws)
        session = uuid.uuid4()
        await first.call("attach", session=session)
        await first.call("signin", [root_credentials(surreal_server)], session=session)
        stolen = await second.send("query", ["RETURN 1"], session=session)
        assert stolen["error"]["kind"] == "NotFound"


async def test_client_transactions_on_a_socket(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE person"])
        committed = await socket.call("begin")
        await socket.call("create", [record("person", "committed")], txn=committed)
        assert await socket.call("select", ["person"]) == []
        await socket.call("commit", [committed])
        abandoned = await socket.call("begin")
        await socket.call("create", [record("person", "abandoned")], txn=abandoned)

    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        assert await socket.call("select", ["person"]) == [{"id": record("person", "committed")}]


# -- Live queries -------------------------------------------------------------------------


async def test_live_notifications_go_only_to_the_owning_socket(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as first_ws, connect(surreal_server) as second_ws:
        first = await signed_in(surreal_server, surreal_database, first_ws)
        second = await signed_in(surreal_server, surreal_database, second_ws)
        await first.call("query", ["DEFINE TABLE person SCHEMALESS"])
        [live] = await first.call("query", ["LIVE SELECT * FROM person"])
        assert live["type"] == "live"
        first_live = uuid_of(live["result"])
        second_live = uuid_of(await second.call("live", ["person"]))

        await first.call(
            "query", ["CREATE person:1 SET n = 1; UPDATE person:1 SET n = 2; DELETE person:1"]
        )
        for socket, own_live in ((first, first_live), (second, second_live)):
            received = [await socket.notification() for _ in range(3)]
            await socket.call("ping")  # anything already queued lands in socket.notifications
            received += socket.notifications
            assert len(received) == 3
            for message in received:
                assert set(message) == {"result"}
                assert uuid_of(message["result"]["id"]) == own_live
                assert message["result"]["session"] == NONE
                assert message["result"]["record"] == record("person", 1)
            # The engine may deliver even one record's notifications out of order.
            by_action = {message["result"]["action"]: message["result"] for message in received}
            assert sorted(by_action) == ["CREATE", "DELETE", "UPDATE"]
            assert by_action["DELETE"]["result"] == {"id": record("person", 1), "n": 2}


async def test_killed_notification_reaches_the_owner(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE person SCHEMALESS"])
        live = await socket.call("live", ["person"])
        await socket.call("query", ["KILL $id", {"id": live}])
        message = await socket.notification()
        assert message["result"]["action"] == "KILLED"
        assert uuid_of(message["result"]["id"]) == uuid_of(live)


async def test_named_session_notifications_carry_the_session(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE person SCHEMALESS"])
        session = uuid.uuid4()
        await socket.call("attach", session=session)
        await socket.call("signin", [root_credentials(surreal_server)], session=session)
        await socket.call(
            "use", [surreal_database.namespace, surreal_database.database], session=session
        )
        live = await socket.call("live", ["person"], session=session)
        await socket.call("create", [record("person", "a")])
        message = await socket.notification()
        assert message["session"] == session
        assert message["result"]["session"] == session
        assert message["result"]["id"] == live


def session_headers(server: SurrealServer, target: SurrealDatabase) -> dict[str, str]:
    return {
        "Authorization": server.basic_auth_header,
        "surreal-ns": target.namespace,
        "surreal-db": target.database,
    }


async def live_queries_on(server: SurrealServer, target: SurrealDatabase, table: str) -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.http_url}/sql",
            content=f"INFO FOR TABLE {table}",
            headers=session_headers(server, target),
        )
    [info] = response.json()
    return info["result"]["lives"]


async def test_closing_a_socket_kills_its_live_queries(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE person SCHEMALESS"])
        await socket.call("live", ["person"])
        await socket.call("query", ["LIVE SELECT * FROM person WHERE n > 1"])
        assert len(await live_queries_on(surreal_server, surreal_database, "person")) == 2

    async with asyncio.timeout(LIVE_CLEANUP_DEADLINE_S):
        while await live_queries_on(surreal_server, surreal_database, "person"):
            await asyncio.sleep(0.05)


async def test_reset_kills_the_sessions_live_queries(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE person SCHEMALESS"])
        await socket.call("live", ["person"])
        assert len(await live_queries_on(surreal_server, surreal_database, "person")) == 1
        await socket.call("reset")
        assert await live_queries_on(surreal_server, surreal_database, "person") == {}
        assert (await socket.send("query", ["RETURN 1"]))["error"]["kind"] == "NotAllowed"


async def test_the_official_sdk_works_against_the_server(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    """The official `surrealdb` SDK (a peer in the real-time tests) speaks to it as to `surreal`."""
    credentials: dict[str, Value] = {
        "username": surreal_server.user,
        "password": surreal_server.password,
    }
    target = (surreal_database.namespace, surreal_database.database)

    over_http = AsyncSurreal(surreal_server.http_url)
    await over_http.signin(credentials)
    await over_http.use(*target)
    await over_http.query("DEFINE TABLE person SCHEMALESS")

    over_ws = AsyncSurreal(surreal_server.ws_url)
    await over_ws.signin(credentials)
    await over_ws.use(*target)
    live = await over_ws.live("person")
    stream = await over_ws.subscribe_live(live)
    created = await over_http.create(RecordID("person", "peer"), {"n": 1})
    assert created == {"id": RecordID("person", "peer"), "n": 1}
    assert await anext(stream) == created
    await over_ws.kill(live)
    await over_ws.close()


# -- Fault injection and restarts ---------------------------------------------------------


async def test_drop_cuts_sockets_without_losing_data(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("create", [record("person", "kept"), {"n": 1}])
        await socket.call("live", ["person"])
        assert await asyncio.to_thread(surreal_server.drop_sockets) >= 1
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await ws.recv()
        assert closed.value.rcvd is None  # no close frame: the TCP connection was cut

    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        kept = await socket.call("select", [record("person", "kept")])
        assert kept == {"id": record("person", "kept"), "n": 1}

    async with asyncio.timeout(LIVE_CLEANUP_DEADLINE_S):  # the dropped socket's live query
        while await live_queries_on(surreal_server, surreal_database, "person"):
            await asyncio.sleep(0.05)


async def test_persistent_server_keeps_data_across_restarts(
    persistent_surreal_server: SurrealServer,
) -> None:
    server = persistent_surreal_server
    target = SurrealDatabase(server, "restart_ns", "restart_db")
    async with connect(server) as ws:
        socket = await signed_in(server, target, ws)
        await socket.call("create", [record("person", 1), {"n": 1}])

    await asyncio.to_thread(server.restart)

    async with connect(server) as ws:
        socket = await signed_in(server, target, ws)
        assert await socket.call("select", [record("person", 1)]) == {
            "id": record("person", 1),
            "n": 1,
        }


async def test_engine_debug_output_cannot_stall_the_server(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    """Every commit on a change-feed table makes the engine print a block on stderr; far
    more than a pipe holds must pass without the server blocking."""
    async with connect(surreal_server) as ws:
        socket = await signed_in(surreal_server, surreal_database, ws)
        await socket.call("query", ["DEFINE TABLE feed CHANGEFEED 1h"])
        statements = await socket.call("query", ["CREATE feed;" * 3000])
        assert len(statements) == 3000
        assert all(statement["status"] == "OK" for statement in statements)
        [counted] = await socket.call("query", ["SELECT count() FROM feed GROUP ALL"])
        assert counted["result"] == [{"count": 3000}]
    if surreal_server.process is not None:
        assert "timestamp.rs" not in surreal_server.process.stderr_tail


async def test_sigterm_stops_the_server_cleanly(persistent_surreal_server: SurrealServer) -> None:
    assert persistent_surreal_server.process is not None
    async with connect(persistent_surreal_server) as ws:
        await RawSocket(ws).call("ping")
        assert await asyncio.to_thread(persistent_surreal_server.process.stop) == 0


# -- HTTP ---------------------------------------------------------------------------------


async def test_http_rpc_cbor_builds_the_session_from_headers(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    headers = session_headers(surreal_server, surreal_database) | {
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
    }
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        request = {"id": 7, "method": "query", "params": ["CREATE person:1; RETURN $x", {"x": 2}]}
        response = await client.post("/rpc", content=cbor2.dumps(request), headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/cbor"
        reply = cbor2.loads(response.content)
        assert set(reply) == {"result"}
        assert [s["result"] for s in reply["result"]] == [
            [{"id": record("person", 1)}],
            2,
        ]

        live = {"method": "live", "params": ["person"]}
        refused = cbor2.loads(
            (await client.post("/rpc", content=cbor2.dumps(live), headers=headers)).content
        )
        assert refused["error"]["message"] == "Method not allowed"


async def test_http_rpc_json_and_anonymous(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    request = json.dumps({"method": "query", "params": ["RETURN $x", {"x": 1}]})
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        authorised = await client.post(
            "/rpc",
            content=request,
            headers=session_headers(surreal_server, surreal_database)
            | {"Content-Type": "application/json"},
        )
        [statement] = authorised.json()["result"]
        assert statement["result"] == 1

        anonymous = await client.post(
            "/rpc", content=request, headers={"Content-Type": "application/json"}
        )
        assert anonymous.json()["error"]["kind"] == "NotAllowed"

        wrong = await client.post(
            "/rpc",
            content=request,
            headers={"Content-Type": "application/json", "Authorization": "Basic cm9vdDp3cm9uZw=="},
        )
        assert wrong.status_code == 401

        unsupported = await client.post(
            "/rpc", content=request, headers={"Content-Type": "text/plain"}
        )
        assert unsupported.status_code == 415


async def test_http_sql(surreal_server: SurrealServer, surreal_database: SurrealDatabase) -> None:
    headers = session_headers(surreal_server, surreal_database)
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        response = await client.post(
            "/sql?name=ann",
            content="CREATE person:1 SET name = $name; SELECT FROM",
            headers=headers,
        )
        assert response.status_code == 400  # a parse error fails the whole request

        response = await client.post(
            "/sql?name=ann", content="CREATE person:1 SET name = $name; RETURN 1", headers=headers
        )
        assert response.status_code == 200
        assert [s["result"] for s in response.json()] == [[{"id": "person:1", "name": "ann"}], 1]

        cbor_response = await client.post(
            "/sql", content="SELECT * FROM person", headers=headers | {"Accept": "application/cbor"}
        )
        [statement] = cbor2.loads(cbor_response.content)
        assert statement["result"] == [{"id": record("person", 1), "name": "ann"}]

        anonymous = await client.post("/sql", content="RETURN 1")
        assert anonymous.status_code == 403


async def test_http_signin(surreal_server: SurrealServer) -> None:
    credentials = root_credentials(surreal_server)
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        response = await client.post(
            "/signin", json=credentials, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 200 and body["token"].count(".") == 2

        bearer = {"Authorization": f"Bearer {body['token']}", "Accept": "application/json"}
        assert (await client.post("/sql", content="RETURN 1", headers=bearer)).status_code == 200

        wrong = await client.post("/signin", json={"user": surreal_server.user, "pass": "wrong"})
        assert wrong.status_code == 401


async def test_http_signup_with_record_access(
    surreal_server: SurrealServer, surreal_database: SurrealDatabase
) -> None:
    access = (
        "DEFINE ACCESS account ON DATABASE TYPE RECORD"
        " SIGNUP (CREATE user SET email = $email, pass = crypto::argon2::generate($pass))"
        " SIGNIN (SELECT * FROM user WHERE email = $email"
        " AND crypto::argon2::compare(pass, $pass))"
    )
    credentials = {
        "NS": surreal_database.namespace,
        "DB": surreal_database.database,
        "AC": "account",
        "email": "ann@example.com",
        "pass": "secret",
    }
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        headers = session_headers(surreal_server, surreal_database)
        assert (await client.post("/sql", content=access, headers=headers)).status_code == 200
        signup = await client.post("/signup", json=credentials, headers={"Accept": "text/plain"})
        assert signup.status_code == 200 and signup.text.count(".") == 2
        signin = await client.post("/signin", json=credentials, headers={"Accept": "text/plain"})
        assert signin.status_code == 200
        as_user = {"Authorization": f"Bearer {signin.text}"}
        [whoami] = (
            await client.post("/sql", content="RETURN [$access, $auth]", headers=as_user)
        ).json()
        access_name, user_id = whoami["result"]
        assert access_name == "account" and user_id.startswith("user:")


async def test_health_version_and_the_version_header(surreal_server: SurrealServer) -> None:
    async with httpx.AsyncClient(base_url=surreal_server.http_url) as client:
        health = await client.get("/health")
        assert health.status_code == 200 and health.content == b""
        version = await client.get("/version")
        assert version.text == "surrealdb-3.0.2"
        missing = await client.get("/nowhere")
        assert missing.status_code == 404
        for response in (health, version, missing):
            assert response.headers["surreal-version"] == "surrealdb-3.0.2"
