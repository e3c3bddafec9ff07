// `npm run web`: a small static server for the browser page. Serves web/ (the page), dist/ (the library bundle and
// the page script, built by tools/build.mjs) and models/ (the demo checkpoints) of the repository, on 127.0.0.1 only.
//   node tools/web_server.mjs [--port 8080]     (--port 0 picks a free port)
// Prints one line `zoa web: http://127.0.0.1:<port>/web/` once listening. Any static server at the repository root
// works as well (e.g. python3 -m http.server, then open /web/).
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SERVED = ["web", "dist", "models"];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".css": "text/css",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".safetensors": "application/octet-stream",
};

function parsePort(argv) {
  const i = argv.indexOf("--port");
  if (i < 0) return 8080;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 0 || v > 65535) {
    console.error(`zoa web: --port must be an integer 0..65535, got '${argv[i + 1] ?? ""}'`);
    process.exit(2);
  }
  return v;
}

/** The file for a URL path, or null when it is outside the served folders (or escapes them). */
function fileFor(urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.endsWith("/")) p += "index.html";
  const file = resolve(ROOT, `.${p}`);
  const ok = SERVED.some((d) => file.startsWith(join(ROOT, d) + sep));
  return ok ? file : null;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/" || url.pathname === "/web") {
    res.writeHead(302, { location: "/web/" });
    res.end();
    return;
  }
  const file = req.method === "GET" || req.method === "HEAD" ? fileFor(url.pathname) : null;
  let size = -1;
  try {
    if (file) {
      const st = statSync(file);
      if (st.isFile()) size = st.size;
    }
  } catch {
    size = -1;
  }
  if (!file || size < 0) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`not found: ${url.pathname}\n`);
    return;
  }
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": size, "cache-control": "no-cache" });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
});

server.listen(parsePort(process.argv.slice(2)), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`zoa web: http://127.0.0.1:${port}/web/`);
});
