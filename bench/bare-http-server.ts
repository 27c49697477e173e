// The intake benchmark's yardstick: a bare Node HTTP server that reads the body and answers 204.
// Run as its own process, like `web`: node --import tsx bench/bare-http-server.ts <port>
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const server = createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare server listening on port ${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
