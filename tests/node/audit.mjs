// The GraphQL-over-HTTP audit of the graphql-http library, against a running server:
// node audit.mjs http://127.0.0.1:PORT/graphql
// Prints one line per check and exits non-zero when a MUST or SHOULD fails.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
let failed = 0;
for (const result of results) {
  console.log(`${result.status.toUpperCase().padEnd(7)} ${result.name}`);
  if (result.status !== 'ok') {
    if (result.name.startsWith('MUST') || result.name.startsWith('SHOULD')) {
      failed += 1;
    }
    console.log(`        ${result.reason ?? ''}`);
  }
}
const passed = results.filter((r) => r.status === 'ok').length;
console.log(`GraphQL-over-HTTP audit: ${passed} checks ok; MUST or SHOULD failing: ${failed}`);
process.exit(failed ? 1 : 0);
