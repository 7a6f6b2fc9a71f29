/**
 * The benchmark's iframe (another site than the parent): answers round trips for the system
 * named in its URL (?sys=…&parent=<origin>), then tells the parent it is ready.
 */
import * as cb from './entry.js';

const params = new URLSearchParams(location.search);
const sys = params.get('sys') ?? '';
const parentOrigin = params.get('parent') ?? '';
const ready = (): void => window.parent.postMessage({ benchReady: sys }, parentOrigin);
let received = 0;

async function main(): Promise<void> {
  switch (sys) {
    case 'postmessage-raw':
      window.addEventListener('message', (e) => {
        if (e.origin !== parentOrigin || e.source !== window.parent) return;
        const d = e.data as { id?: number; p?: unknown };
        if (typeof d?.id === 'number') window.parent.postMessage({ id: d.id, p: d.p }, parentOrigin);
      });
      ready();
      break;
    case 'messageport-raw':
      window.addEventListener('message', (e) => {
        if (e.origin !== parentOrigin || e.source !== window.parent || (e.data as { port?: unknown })?.port !== true) return;
        const port = e.ports[0]!;
        port.onmessage = (m) => {
          const d = m.data as { id: number; p?: unknown; oneway?: boolean; count?: boolean };
          if (d.oneway) {
            received++;
            return;
          }
          if (d.count) {
            port.postMessage({ id: d.id, p: received });
            return;
          }
          port.postMessage({ id: d.id, p: d.p });
        };
        ready();
      });
      window.parent.postMessage({ wantPort: true }, parentOrigin);
      break;
    case 'crossbus': {
      const bus = await cb.connect(cb.windowConnector({ target: window.parent, hubOrigin: parentOrigin }), { name: 'child' });
      bus.serve('bench.echo', (m) => m.data);
      bus.subscribe('bench.oneway', () => {
        received++;
      });
      bus.serve('bench.count', () => received);
      await bus.flush();
      ready();
      break;
    }
    case 'penpal':
      cb.penpalConnect({
        messenger: new cb.WindowMessenger({ remoteWindow: window.parent, allowedOrigins: [parentOrigin] }),
        methods: { echo: (p: unknown) => p },
      });
      break; // the parent's connection promise says when it is ready
    case 'comlink':
      cb.Comlink.expose({ echo: (p: unknown) => p }, cb.Comlink.windowEndpoint(window.parent, self, parentOrigin), [parentOrigin]);
      ready();
      break;
  }
}
void main();
