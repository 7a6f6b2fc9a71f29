export { createPortTransport, CLOSE_NOTICE, type PortLike, type PortTransportInfo } from './port-transport.js';
export { workerConnector, listenPorts, CONNECT_REQUEST, type ConnectRequest } from './connect.js';
