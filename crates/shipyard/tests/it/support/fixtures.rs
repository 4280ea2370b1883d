//! The apps and repositories tests deploy or detect, in one place: static, Vite React, npm,
//! Express and Flask apps, and small servers for the runtime's tests.

/// A repository that detection reads as an Express server (never installed).
pub const EXPRESS_REPO: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{"name":"api","scripts":{"start":"node server.js"},"dependencies":{"express":"^4.19.2"}}"#,
    ),
    ("package-lock.json", r#"{"lockfileVersion":3}"#),
    ("server.js", "require('express')().listen(process.env.PORT)"),
];

/// An Express app pinned to one release of express, deployed from the real registry.
pub const EXPRESS_APP: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{"name":"api","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2"}}"#,
    ),
    (
        "server.js",
        "const express = require('express');\nconst app = express();\napp.get('/', (_q, r) => r.send('ok'));\napp.listen(process.env.PORT || 3000);\n",
    ),
];

/// A Vite + React app as `npm create vite` makes it, trimmed to what matters.
pub fn vite_react_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "package.json",
            r#"{"name":"web","private":true,"type":"module","scripts":{"dev":"vite","build":"vite build"},
               "dependencies":{"react":"^18.3.1","react-dom":"^18.3.1"},"devDependencies":{"vite":"^5.4.0"}}"#,
        ),
        (
            "package-lock.json",
            r#"{"name":"web","lockfileVersion":3,"packages":{}}"#,
        ),
        ("index.html", "<!doctype html><div id=\"root\"></div>"),
        ("src/main.jsx", "console.log('hi')"),
    ]
}

/// A Vite + React app that really builds (pinned versions, no lockfile: npm resolves it).
pub fn vite_react_app_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "package.json",
            r#"{"name":"web","private":true,"type":"module","scripts":{"build":"vite build"},
               "dependencies":{"react":"18.3.1","react-dom":"18.3.1"},"devDependencies":{"vite":"5.4.11"}}"#,
        ),
        (
            "index.html",
            "<!doctype html><div id=\"root\"></div><script type=\"module\" src=\"/src/main.jsx\"></script>",
        ),
        (
            "src/main.jsx",
            "import React from 'react';\nimport { createRoot } from 'react-dom/client';\ncreateRoot(document.getElementById('root')).render(<h1>Hello from Vite</h1>);\n",
        ),
    ]
}

/// An npm app with one dependency (left-pad) and its real lockfile, serving `ok`.
pub fn npm_app_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "package.json",
            r#"{"name":"npmapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"left-pad":"1.3.0"}}"#,
        ),
        ("package-lock.json", include_str!("../fixtures/npm-lock.json")),
        (
            "server.js",
            "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT || 3000);",
        ),
    ]
}

/// `npm_app_files` with `server_js` as its server.
pub fn npm_app_serving(server_js: &str) -> Vec<(&'static str, &str)> {
    let mut files = npm_app_files();
    files.retain(|(name, _)| *name != "server.js");
    files.push(("server.js", server_js));
    files
}

/// The end of a node test app whose `http` server is `server`: upgrades become a WebSocket
/// echo (by hand: small text frames only, each answered `echo: <text>`), then it listens.
pub const WEBSOCKET_ECHO_JS: &str = r#"
server.on('upgrade', (q, socket) => {
  const accept = require('crypto').createHash('sha1')
    .update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  socket.on('data', (buf) => {
    if ((buf[0] & 0x0f) === 8) { socket.end(); return; }
    const len = buf[1] & 127, mask = buf.slice(2, 6), text = Buffer.alloc(len);
    for (let i = 0; i < len; i++) text[i] = buf[6 + i] ^ mask[i % 4];
    const reply = Buffer.from('echo: ' + text.toString());
    socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
  });
});
server.listen(process.env.PORT);
"#;

/// An Express app answering the contents of `body.txt`, logging a line per `/log` request.
pub fn express_files(body: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            r#"{"name":"expressapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2"}}"#
                .to_owned(),
        ),
        (
            "server.js",
            "const express = require('express'); const fs = require('fs');\n\
             const body = fs.readFileSync('body.txt', 'utf8'); const me = Math.random().toString(36).slice(2);\n\
             const app = express();\n\
             app.get('/', (q, r) => r.send(body));\n\
             app.get('/whoami', (q, r) => r.send(me));\n\
             app.get('/log', (q, r) => { console.log('hit ' + q.query.n + ' key=' + process.env.API_KEY); r.send('logged'); });\n\
             app.listen(process.env.PORT, () => console.log('express listening on ' + process.env.PORT));\n"
                .to_owned(),
        ),
        ("body.txt", body.to_owned()),
    ]
}

/// A Flask app under gunicorn answering the contents of `body.txt`.
pub fn flask_files(body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n".to_owned()),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\nBODY = open('body.txt').read()\n\n\
             @app.get('/')\ndef index():\n    return BODY\n"
                .to_owned(),
        ),
        ("body.txt", body.to_owned()),
    ]
}

/// An Express app on PostgreSQL (the real `pg` driver from the registry): `/write?t=` and
/// `/read` use `DATABASE_URL`, `/migrated` counts the rows `node migrate.js` (a pre-deploy
/// command) inserts, `/exit` crashes it; `/probe` and the build (`node probe.js`) try a TCP connection to
/// 127.0.0.1:`PROBE_PORT` and say whether it opened.
pub fn express_pg_files() -> Vec<(&'static str, String)> {
    let probe = "const s = require('net').connect(Number(process.env.PROBE_PORT), '127.0.0.1');\n\
                 s.on('connect', () => { console.log('BUILD-PROBE open'); s.destroy(); });\n\
                 s.on('error', (e) => console.log('BUILD-PROBE closed: ' + e.code));\n\
                 s.setTimeout(3000, () => { console.log('BUILD-PROBE closed: timeout'); s.destroy(); });\n";
    let migrate = "const { Client } = require('pg');\n\
                   (async () => {\n\
                     const c = new Client({ connectionString: process.env.DATABASE_URL });\n\
                     await c.connect();\n\
                     await c.query('CREATE TABLE IF NOT EXISTS migrations_done (n int)');\n\
                     await c.query('INSERT INTO migrations_done VALUES (1)');\n\
                     await c.end();\n\
                     console.log('migrated');\n\
                   })().catch((e) => { console.error('migration failed: ' + e.message); process.exit(1); });\n";
    let server = "const express = require('express'); const net = require('net'); const { Client } = require('pg');\n\
                  const app = express();\n\
                  app.get('/', (q, r) => r.send('notes'));\n\
                  app.get('/exit', (q, r) => { r.send('bye'); setTimeout(() => process.exit(1), 50); });\n\
                  async function sql(text, params) {\n\
                    const c = new Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });\n\
                    await c.connect();\n\
                    try { return (await c.query(text, params)).rows; } finally { await c.end(); }\n\
                  }\n\
                  app.get('/write', async (q, r) => {\n\
                    try { await sql('CREATE TABLE IF NOT EXISTS notes (t text)'); await sql('INSERT INTO notes VALUES ($1)', [q.query.t]); r.send('written'); }\n\
                    catch (e) { r.status(500).send('db error: ' + e.message); }\n\
                  });\n\
                  app.get('/read', async (q, r) => {\n\
                    try { r.send((await sql('SELECT t FROM notes ORDER BY t')).map((x) => x.t).join(',')); }\n\
                    catch (e) { r.status(500).send('db error: ' + e.message); }\n\
                  });\n\
                  app.get('/migrated', async (q, r) => {\n\
                    try { r.send(String((await sql('SELECT count(*) AS n FROM migrations_done'))[0].n)); }\n\
                    catch (e) { r.status(500).send('db error: ' + e.message); }\n\
                  });\n\
                  app.get('/probe', (q, r) => {\n\
                    let done = false;\n\
                    const s = net.connect(Number(process.env.PROBE_PORT), '127.0.0.1');\n\
                    const say = (t) => { if (!done) { done = true; s.destroy(); r.send(t); } };\n\
                    s.on('connect', () => say('open')); s.on('error', (e) => say('closed: ' + e.code));\n\
                    s.setTimeout(3000, () => say('closed: timeout'));\n\
                  });\n\
                  app.listen(process.env.PORT);\n";
    vec![
        (
            "package.json",
            r#"{"name":"notes","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2","pg":"8.13.1"}}"#
                .to_owned(),
        ),
        ("probe.js", probe.to_owned()),
        ("migrate.js", migrate.to_owned()),
        ("server.js", server.to_owned()),
    ]
}
