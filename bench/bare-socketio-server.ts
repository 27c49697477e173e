// The fan-out benchmark's yardstick: a bare Socket.IO server, in its own process, that emits
// `count` events to every connected socket when asked with POST /emit?count=N. The request's
// JSON body is the event to emit, so that it sends the same bytes as the pipeline did.
// node --import tsx bench/bare-socketio-server.ts <port>
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/emit') {
    const count = Number(url.searchParams.get('count') ?? '1');
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const event = JSON.parse(body || '{}') as unknown;
      for (let n = 0; n < count; n++) io.emit('event', event);
      res.writeHead(204).end();
    });
    return;
  }
  if (!url.pathname.startsWith('/socket.io')) res.writeHead(404).end();
});
const io = new Server(http, { path: '/socket.io' });
http.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare socket.io listening on port ${port}\n`);
});
process.on('SIGTERM', () => {
  void io.close(() => process.exit(0));
});
