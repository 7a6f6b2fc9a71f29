/**
 * TCP, Unix domain sockets and TLS through the contract suites: the transport itself, and the Bus
 * and the Broker over it, plain, encrypted (Node crypto) and integrity-only (WebCrypto), as the
 * other transports. Real sockets on 127.0.0.1 and in a temporary folder; certificates made at run time.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractHub, runBusContract, runTransportContract } from './transport-contract.js';
import type { Broker } from '../../src/core/broker/broker.js';
import type { Transport, TransportConnector } from '../../src/core/transport/transport.js';
import { type SocketListenAddress, listenSocket } from '../../src/transports/net/socket-listener.node.js';
import { socketConnector, type TlsClientOptions } from '../../src/transports/net/socket-connector.node.js';
import { makeCertificates } from '../helpers/certificates.js';

const certs = makeCertificates();
const socketDir = mkdtempSync(join(tmpdir(), 'crossbus-sock-'));
after(() => {
  certs.cleanup();
  rmSync(socketDir, { recursive: true, force: true });
});

let sockets = 0;
const KINDS: { name: string; address: () => SocketListenAddress; tls?: TlsClientOptions }[] = [
  { name: 'tcp', address: () => ({ kind: 'tcp', host: '127.0.0.1', port: 0 }) },
  { name: 'unix', address: () => ({ kind: 'unix', path: join(socketDir, `hub-${++sockets}.sock`) }) },
  {
    name: 'tls',
    address: () => ({ kind: 'tls', host: '127.0.0.1', port: 0, cert: certs.server.cert, key: certs.server.key }),
    tls: { ca: certs.caCert },
  },
];

for (const k of KINDS) {
  runTransportContract(
    k.name,
    async () => {
      let resolveServer!: (t: Transport) => void;
      const serverSide = new Promise<Transport>((r) => (resolveServer = r));
      const listener = await listenSocket({ ...k.address(), onConnection: (t) => resolveServer(t) });
      const client = await socketConnector(listener.url, k.tls ? { tls: k.tls } : {})();
      const server = await serverSide;
      return {
        client,
        server,
        cleanup: async () => {
          client.close();
          server.close();
          await listener.close();
        },
      };
    },
    { closeCodes: false },
  );

  /** A hub's broker behind a real listener: every connection the bus opens is a new socket. */
  const overSocket = (broker: Broker): TransportConnector => {
    let connector: TransportConnector | undefined;
    const listening = listenSocket({ ...k.address(), onConnection: (t) => broker.accept(t) }).then((l) => {
      connector = socketConnector(l.url, k.tls ? { tls: k.tls } : {});
      closers.push(() => l.close());
      return l;
    });
    return async (signal) => {
      await listening;
      return (connector as TransportConnector)(signal);
    };
  };
  for (const security of ['plain', 'encrypted', 'integrity'] as const) {
    runBusContract(`${k.name}, ${security}`, async () => {
      const hub = await contractHub(security, overSocket);
      return {
        ...hub,
        cleanup: async () => {
          await hub.cleanup();
          await Promise.all(closers.splice(0).map((c) => c()));
        },
      };
    });
  }
}

const closers: (() => Promise<void>)[] = [];
