// A loopback stand-in for `surreal start` (SurrealDB 3.0.2) for the surreal-gen tests:
// WebSocket and HTTP RPC over the embedded engine of @surrealdb/node.
//
//   node server.mjs [--bind 127.0.0.1:PORT] [--user root] [--pass root] [--exit-on-stdin-close]
//                   [mem:// | surrealkv://PATH]
//
// Environment: SURREAL_BIND, SURREAL_USER, SURREAL_PASS, SURREAL_PATH (flags win).
// Prints `LISTENING <port>` on stdout when ready; exits cleanly on SIGTERM or SIGINT, and,
// with --exit-on-stdin-close, when its parent (the test run) goes away.

import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { decode } from "./cbor_raw.mjs";
import { Engine } from "./engine.mjs";
import { HttpApi } from "./http.mjs";
import { Registry } from "./session.mjs";
import { routeNotification } from "./notifications.mjs";
import { chooseSubprotocol, serveWebSocket } from "./websocket.mjs";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function log(message) {
	process.stderr.write(`[surreal-test-server] ${message}\n`);
}

function readConfig() {
	const { values, positionals } = parseArgs({
		options: {
			bind: { type: "string", default: process.env.SURREAL_BIND ?? "127.0.0.1:0" },
			user: { type: "string", default: process.env.SURREAL_USER ?? "root" },
			pass: { type: "string", default: process.env.SURREAL_PASS ?? "root" },
			"exit-on-stdin-close": { type: "boolean", default: false },
		},
		allowPositionals: true,
	});
	const separator = values.bind.lastIndexOf(":");
	const host = values.bind.slice(0, separator);
	const port = Number(values.bind.slice(separator + 1));
	if (!LOOPBACK_HOSTS.has(host) || !Number.isInteger(port)) {
		throw new Error(`--bind must be a loopback HOST:PORT, got ${values.bind}`);
	}
	let storage = positionals[0] ?? process.env.SURREAL_PATH ?? "mem://";
	if (storage === "memory") storage = "mem://";
	return {
		host: host.replace(/^\[(.*)\]$/, "$1"),
		port,
		user: values.user,
		pass: values.pass,
		storage,
		exitOnStdinClose: values["exit-on-stdin-close"],
	};
}

/** SurrealQL string literal (DEFINE USER ... PASSWORD takes no parameters). */
function surqlString(text) {
	return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Create the root user once, as `surreal start --user --pass` does on a fresh datastore. */
async function defineRootUser(engine, user, pass) {
	const name = `\`${user.replaceAll("`", "\\`")}\``;
	const sql = `DEFINE USER IF NOT EXISTS ${name} ON ROOT PASSWORD ${surqlString(pass)} ROLES OWNER`;
	const reply = await engine.call("query", [sql]);
	const [statement] = reply.ok ? decode(reply.raw) : [{ status: "ERR", result: decode(reply.raw) }];
	if (statement.status !== "OK") throw new Error(`cannot define the root user: ${JSON.stringify(statement.result)}`);
}

async function main() {
	const config = readConfig();
	const engine = await Engine.open(config.storage, log);
	await defineRootUser(engine, config.user, config.pass);
	const version = decode((await engine.call("version", [])).raw);
	const registry = new Registry();
	engine.onNotification((raw) => {
		try {
			routeNotification(registry, raw);
		} catch (error) {
			log(`cannot deliver a notification: ${error.stack}`);
		}
	});

	const sockets = new WebSocketServer({ noServer: true, handleProtocols: (offered) => chooseSubprotocol(offered) });
	const dropSockets = () => {
		const count = sockets.clients.size;
		for (const socket of sockets.clients) socket.terminate();
		return count;
	};
	const api = new HttpApi({ engine, registry, version, dropSockets, log });
	const server = createServer((request, response) => {
		api.handle(request, response).catch((error) => {
			log(`${request.method} ${request.url} failed: ${error.stack}`);
			response.destroy();
		});
	});
	server.on("upgrade", (request, socket, head) => {
		if (new URL(request.url, "http://localhost").pathname !== "/rpc") {
			socket.destroy();
			return;
		}
		sockets.handleUpgrade(request, socket, head, (ws) => serveWebSocket(ws, { engine, registry, log }));
	});

	const shutdown = () => {
		dropSockets();
		server.close();
		server.closeAllConnections();
		engine.close();
		process.exit(0);
	};
	process.on("SIGTERM", shutdown);
	process.on("SIGINT", shutdown);
	if (config.exitOnStdinClose) {
		process.stdin.on("end", shutdown);
		process.stdin.resume();
	}

	server.listen(config.port, config.host, () => {
		process.stdout.write(`LISTENING ${server.address().port}\n`);
	});
}

main().catch((error) => {
	log(`cannot start: ${error.message}`);
	process.exit(1);
});
