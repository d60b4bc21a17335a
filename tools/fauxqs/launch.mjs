// The local stack's SQS and SNS: fauxqs on loopback only. fauxqs's own `startFauxqs` listens on
// every interface, so this builds its app and listens on 127.0.0.1 itself.
// Usage: node launch.mjs <port> [region]
import { buildApp } from "fauxqs";

const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node launch.mjs <port> [region]");
  process.exit(2);
}
const app = buildApp({ logger: false, defaultRegion: process.argv[3] ?? "us-east-1" });
try {
  await app.listen({ port, host: "127.0.0.1" });
} catch (error) {
  console.error(`fauxqs cannot listen on 127.0.0.1:${port}: ${error.message}`);
  process.exit(1);
}
console.log(`fauxqs listening on http://127.0.0.1:${port}`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    app.close().finally(() => process.exit(0));
  });
}
