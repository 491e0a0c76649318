// The baseline: a bare `ws` server that answers every CALL at once without
// storing anything. Same sockets, same frames, no CSMS: the ceiling to compare with.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const PROTOCOLS = ['ocpp2.1', 'ocpp2.0.1', 'ocpp1.6'];
const wss = new WebSocketServer({ port, host: '127.0.0.1', handleProtocols: (p) => PROTOCOLS.find((x) => p.has(x)) ?? false });
let tx = 0;
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame[0] !== 2) return;
    const payload = frame[2] === 'StartTransaction' ? { transactionId: ++tx, idTagInfo: { status: 'Accepted' } } : frame[2] === 'BootNotification' ? { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } : {};
    ws.send(JSON.stringify([3, frame[1], payload]));
  });
});
wss.on('listening', () => {
  const addr = wss.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof addr === 'string' || !addr ? addr : addr.port}\n`);
});
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
