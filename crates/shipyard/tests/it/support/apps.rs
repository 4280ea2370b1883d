//! Apps the runtime tests deploy: an Express app and a Flask app from the real registries,
//! and the steps around them (a project from their files, a deploy to ready, a poll of the
//! runtime view).

use super::deploy::Deployable;
use super::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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

/// A project `name` of `kind` from `files`, running as `runtime` says.
pub async fn project(
    server: &TestServer,
    ada: &Tenant,
    name: &str,
    kind: &str,
    files: &[(&str, String)],
    runtime: Value,
) -> Deployable {
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    ada.deployable(server, name, kind, &files, json!({ "runtime": runtime }))
        .await
}

/// Deploys `app` and waits (at most 400 s) until it is ready.
pub async fn deploy_ready(ada: &Tenant, app: &Deployable) -> Value {
    let done = ada
        .finished(ada.deploy(app).await["id"].as_str().expect("id"), 400)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    done
}

/// Polls the runtime view until `ok` holds of it (at most 60 s).
pub async fn runtime_until(ada: &Tenant, app: &Deployable, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = ada.runtime_view(app).await;
        if ok(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "{what}: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
