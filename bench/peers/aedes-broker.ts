/**
 * Stand-alone aedes MQTT broker for the benchmarks (plain TCP, 127.0.0.1).
 *
 *   node --import tsx bench/peers/aedes-broker.ts [port]
 *
 * Port 0 (the default) picks a free port. Prints `aedes ready mqtt://127.0.0.1:<port>` once
 * listening. Exits on SIGTERM/SIGINT, and on its own if the parent process disappears.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const requestedPort = Number(process.argv[2] ?? '0');
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`aedes-broker: invalid port ${String(process.argv[2])}`);
  process.exit(2);
}

const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);

broker.on('clientError', (client, err) => {
  console.error(`aedes client error (${client.id}): ${err.message}`);
});
broker.on('connectionError', (_client, err) => {
  console.error(`aedes connection error: ${err.message}`);
});

server.on('error', (err) => {
  console.error(`aedes-broker: ${err.message}`);
  process.exit(1);
});

server.listen(requestedPort, '127.0.0.1', () => {
  const addr = server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : requestedPort;
  console.log(`aedes ready mqtt://127.0.0.1:${port}`);
});

let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  const force = setTimeout(() => process.exit(code), 2_000);
  force.unref();
  server.close();
  broker.close(() => process.exit(code));
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

// Don't outlive the bench process if it was killed without a chance to clean up.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    shutdown(0);
  }
}, 1_000).unref();
