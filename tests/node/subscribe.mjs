// Subscribes to commentAdded(postId) with the graphql-ws client library and prints
// each result as one JSON line; prints {"ready":true} once connected.
// Usage: node subscribe.mjs <ws-url> <access-token> <post-id> <results-to-wait-for>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, postId, wanted] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => console.log(JSON.stringify({ ready: true })) },
});

let received = 0;
await new Promise((resolve, reject) => {
  client.subscribe(
    {
      query: 'subscription($p: ID!) { commentAdded(postId: $p) { id content author { username } } }',
      variables: { p: postId },
    },
    {
      next: (result) => {
        console.log(JSON.stringify(result));
        received += 1;
        if (received >= Number(wanted)) resolve();
      },
      error: (error) => reject(new Error(JSON.stringify(error))),
      complete: resolve,
    },
  );
});
await client.dispose();
