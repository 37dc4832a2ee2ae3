// An express app keeping its sessions in Shoal through express-session's connect-redis
// store (node-redis over TLS to one node's Redis port), and a driver that exercises it:
// sessions created, read back, updated, destroyed, and expired, with another node
// SIGKILLed in the middle and restarted at the end.
// Usage: node session_app.js SHOAL_CLI DEV_DIR RESP_PORT APP_PORT DB
// Exits 0 when every check held, 1 otherwise. Every wait is bounded.
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const express = require("express");
const session = require("express-session");
const { createClient } = require("redis");
const RedisStore = require("connect-redis").default;

const [shoal, dir, respPort, appPort, db] = process.argv.slice(2);
let failed = 0;
function check(ok, what) {
  console.log((ok ? "ok: " : "FAIL: ") + what);
  if (!ok) failed++;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const redis = createClient({
    database: Number(db),
    socket: {
      host: "127.0.0.1",
      port: Number(respPort),
      tls: true,
      ca: fs.readFileSync(`${dir}/tls/ca.crt`),
      cert: fs.readFileSync(`${dir}/tls/client-admin.crt`),
      key: fs.readFileSync(`${dir}/tls/client-admin.key`),
      servername: "127.0.0.1",
      connectTimeout: 3000,
      reconnectStrategy: false,
    },
  });
  redis.on("error", (e) => console.log("redis client: " + e.message));
  await redis.connect();

  const app = express();
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: "sess:" }),
      secret: "test-only-secret",
      resave: false,
      saveUninitialized: false,
      rolling: false,
      cookie: { maxAge: 60000 },
    })
  );
  app.post("/login", (req, res) => {
    req.session.user = req.query.user;
    if (req.query.short) req.session.cookie.maxAge = 1500;  // expires in Shoal after 1.5 s
    res.send("hello " + req.query.user);
  });
  app.get("/me", (req, res) => {
    if (!req.session.user) return res.status(401).send("who are you?");
    req.session.views = (req.session.views || 0) + 1;
    res.send(req.session.user + " " + req.session.views);
  });
  app.post("/logout", (req, res) => req.session.destroy(() => res.send("bye")));
  const server = app.listen(Number(appPort), "127.0.0.1");
  await new Promise((r) => server.once("listening", r));

  const base = `http://127.0.0.1:${appPort}`;
  const call = async (method, path, cookie) => {
    const r = await fetch(base + path, { method, headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
    const set = r.headers.get("set-cookie");
    return { status: r.status, body: await r.text(), cookie: set ? set.split(";")[0] : cookie };
  };

  const users = [];
  for (let i = 0; i < 20; i++) {
    const r = await call("POST", `/login?user=u${i}`);
    users.push(r.cookie);
    check(r.status === 200 && r.cookie, `session ${i} created`);
  }
  const me = async (i) => call("GET", "/me", users[i]);
  check((await me(3)).body === "u3 1", "a session reads back what its login stored");
  // Another node dies; the sessions namespace (n=3, w=2) keeps taking writes.
  execFileSync(shoal, ["--dir", dir, "dev", "kill", "3"]);
  let ok = 0;
  for (let i = 0; i < 20; i++) if ((await me(i)).status === 200) ok++;
  check(ok === 20, `all 20 sessions read and updated with node 3 down (${ok})`);
  check((await me(3)).body === "u3 3", "updates to a session are kept (views counted)");
  const stored = await redis.get(`sess:${decodeURIComponent(users[5].split("=")[1]).slice(2).split(".")[0]}`);
  check(stored && JSON.parse(stored).user === "u5", "the session is in Shoal, as JSON, under connect-redis's key");
  const ttl = await redis.ttl(`sess:${decodeURIComponent(users[5].split("=")[1]).slice(2).split(".")[0]}`);
  check(ttl > 50 && ttl <= 60, `its expiry follows the cookie's maxAge (${ttl} s)`);
  // Destroyed sessions are gone.
  for (let i = 0; i < 5; i++) await call("POST", "/logout", users[i]);
  let gone = 0;
  for (let i = 0; i < 5; i++) if ((await me(i)).status === 401) gone++;
  check(gone === 5, `5 destroyed sessions are gone (${gone})`);
  // A short session expires in Shoal.
  const short = await call("POST", "/login?user=brief&short=1");
  check((await call("GET", "/me", short.cookie)).status === 200, "a 1.5 s session is there");
  await sleep(2500);
  const later = await call("GET", "/me", short.cookie);
  check(later.status === 401, "and gone after it expired");
  execFileSync(shoal, ["--dir", dir, "dev", "restart", "3"]);
  ok = 0;
  for (let i = 5; i < 20; i++) if ((await me(i)).status === 200) ok++;
  check(ok === 15, `after node 3 is back the 15 live sessions still read (${ok})`);
  server.close();
  await redis.quit();
  console.log(failed ? `${failed} checks failed` : "all checks passed");
  process.exit(failed ? 1 : 0);
}

const deadline = setTimeout(() => {
  console.log("FAIL: the test ran past its 60 s bound");
  process.exit(1);
}, 60000);
deadline.unref();
main().catch((e) => {
  console.log("FAIL: " + (e.stack || e));
  process.exit(1);
});
