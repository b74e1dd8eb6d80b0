// Peer: Express 5 with express-prom-bundle (method, path and status labels, like podscale's).
import express from 'express';
import promBundle from 'express-prom-bundle';

const app = express();
app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
