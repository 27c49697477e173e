import { createServer } from 'node:http';
import { z } from 'zod';
import { createSimulator } from './simulator-app.js';

// The simulator is a dev and test tool, not a streamfeed process, so it has its own few settings.
const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3900),
    SIM_CLIENT_ID: z.string().min(1).default('streamfeed-dev-client'),
    SIM_CLIENT_SECRET: z.string().min(1).default('streamfeed-dev-secret'),
    SIM_REDIRECT_URIS: z.string().default('http://localhost:3000/auth/twitch/callback'),
    SIM_REQUIRE_HTTPS_CALLBACK: z.enum(['true', 'false']).default('false'),
    SIM_RETRY_DELAYS_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/)
      .default('1000,2000,4000,8000'),
  })
  .safeParse(process.env);
if (!env.success) {
  process.stderr.write(
    `simulator: cannot start, ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}\n`,
  );
  process.exit(1);
}
const config = env.data;
const { app } = createSimulator({
  clients: [
    {
      clientId: config.SIM_CLIENT_ID,
      clientSecret: config.SIM_CLIENT_SECRET,
      redirectUris: config.SIM_REDIRECT_URIS.split(','),
    },
  ],
  requireHttpsCallback: config.SIM_REQUIRE_HTTPS_CALLBACK === 'true',
  retryDelaysMs: config.SIM_RETRY_DELAYS_MS.split(',').map(Number),
  log: (line) => process.stdout.write(`simulator: ${line}\n`),
});
const server = createServer(app);
server.listen(config.PORT, '127.0.0.1', () => {
  process.stdout.write(`simulator listening on http://127.0.0.1:${config.PORT}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
