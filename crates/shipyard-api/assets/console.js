// Shipyard console: the live parts only. Every page works without this file; it follows the
// API's event streams (build and runtime logs) and appends their lines as they come. Log text
// is a tenant's: it only ever reaches the page through textContent, never as HTML, and its ANSI
// colours become classes as `src/console/ansi.rs` makes them on the server.
"use strict";

function segments(line) {
  const out = [];
  let style = { fg: null, bg: null, b: false, i: false, u: false };
  let text = "";
  const cls = () => [style.fg !== null ? "fg" + style.fg : "", style.bg !== null ? "bg" + style.bg : "",
    style.b ? "b" : "", style.i ? "i" : "", style.u ? "u" : ""].filter(Boolean).join(" ");
  const flush = () => { if (text) { out.push([cls(), text]); text = ""; } };
  const apply = (params) => {
    const codes = params.split(/[;:]/).map((p) => parseInt(p, 10) || 0);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) style = { fg: null, bg: null, b: false, i: false, u: false };
      else if (c === 1) style.b = true; else if (c === 3) style.i = true; else if (c === 4) style.u = true;
      else if (c === 22) style.b = false; else if (c === 23) style.i = false; else if (c === 24) style.u = false;
      else if (c >= 30 && c <= 37) style.fg = c - 30; else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
      else if (c === 39) style.fg = null;
      else if (c >= 40 && c <= 47) style.bg = c - 40; else if (c >= 100 && c <= 107) style.bg = c - 100 + 8;
      else if (c === 49) style.bg = null;
      else if (c === 38 || c === 48) i += codes[i + 1] === 2 ? 4 : 2;
    }
  };
  const chars = Array.from(line);
  for (let k = 0; k < chars.length; k++) {
    const ch = chars[k];
    if (ch === "\u001b" || ch === "\u009b") {
      const kind = ch === "\u009b" ? "[" : chars[++k];
      if (kind === "[") {
        let params = "", last = null;
        while (++k < chars.length) {
          const c = chars[k];
          if (c >= "\u0040" && c <= "\u007e") { last = c; break; }
          params += c;
        }
        if (last === "m") { flush(); apply(params); }
      } else if (kind === "]" || kind === "P" || kind === "^" || kind === "_") {
        while (++k < chars.length) {
          if (chars[k] === "\u0007") break;
          if (chars[k] === "\u001b" && chars[k + 1] === "\\") { k++; break; }
        }
      }
    } else if (ch === "\t" || !/[\u0000-\u001f\u007f-\u009f]/.test(ch)) {
      text += ch;
    }
  }
  flush();
  return out;
}

function lineElement(frame) {
  const el = document.createElement("span");
  el.className = "l " + (frame.stream || "");
  el.dataset.seq = frame.seq;
  for (const [cls, text] of segments(frame.line || "")) {
    const s = document.createElement("span");
    if (cls) s.className = cls;
    s.textContent = text;
    el.appendChild(s);
  }
  return el;
}

function follow(log) {
  let last = parseInt(log.dataset.after || "0", 10);
  let wait = 500, failures = 0;
  const statusEl = document.getElementById(log.dataset.statusOf || "");
  const atBottom = () => log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.scrollTop = log.scrollHeight;
  const open = () => {
    const source = new EventSource(log.dataset.stream + "?after=" + last);
    source.onmessage = (event) => {
      wait = 500;
      failures = 0;
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame.type === "log" && frame.seq > last) {
        const follow = atBottom();
        last = frame.seq;
        log.appendChild(lineElement(frame));
        if (follow) log.scrollTop = log.scrollHeight;
      } else if (frame.type === "status" && statusEl) {
        statusEl.textContent = frame.status;
        statusEl.className = "status " + frame.status;
      } else if (frame.type === "done") {
        source.close();
        if (log.dataset.reloadOnDone !== undefined) window.location.reload();
      }
    };
    // Reopened by hand from the last line seen: the browser's own retry would send the first
    // URL's `after` again, and the API prefers it to Last-Event-ID. A stream that keeps
    // failing (the session ended, the release is gone) is left for a reload to retry.
    source.onerror = () => {
      source.close();
      if (++failures > 8) return;
      setTimeout(open, wait);
      wait = Math.min(wait * 2, 10000);
    };
  };
  open();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("pre.log[data-stream]").forEach(follow);
});
