/** A free TCP port on loopback for a server a test or benchmark starts. */
import net from 'node:net';

/** Binds 127.0.0.1:0, reads the assigned port and releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}
