export { createShmBuffer } from './layout.js';
export { createShmTransport, type ShmTransportOptions } from './shm-transport.js';
export {
  shmConnector,
  listenShm,
  SHM_CONNECT_REQUEST,
  type ShmConnectRequest,
  type ShmConnectorOptions,
  type ShmListenOptions,
} from './connect.js';
